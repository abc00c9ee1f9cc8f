#include "runtime/http/bearer.hpp"

#include <chrono>

#include "runtime/core/call_context.hpp"
#include "runtime/core/error.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/observability/log.hpp"

namespace troupe {

namespace {

// RFC 6750 section 3: the challenge names the realm, and for a token that was sent, why it
// failed in the protocol's terms (never the verifier's own reason).
http_response challenge(errc code, const std::string& message, const std::string& request_id,
                        const std::string& www_authenticate) {
  auto res = error_response(make_error(code, message), request_id);
  res.headers.emplace_back("WWW-Authenticate", www_authenticate);
  return res;
}

// Why a presented token was refused goes to the log, under the request's trace id, so an
// operator can tell an expired token from a forged one; the client is never told. A client
// can send refused tokens at will, so the lines are bounded.
void log_refusal(const http_request& request, const std::string& why) {
  static log_budget budget{10};
  std::uint64_t held_back = 0;
  if (!budget.allow(held_back)) return;
  std::string line = "bearer token refused: " + why;
  if (!request.peer.empty()) line += " (client " + request.peer + ")";
  if (held_back > 0)
    line += "; " + std::to_string(held_back) + " refusals before this one were not logged";
  log_warn("auth", line, {request.id, request.span_id});
}

}  // namespace

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

authentication authenticate(const route& r, const http_request& request,
                            const security::token_verifier* verifier, std::int64_t now) {
  authentication out;
  if (r.public_access || !verifier) return out;
  const std::string* header = nullptr;
  int count = 0;
  for (auto& [name, value] : request.headers)
    if (ascii_iequals(name, "Authorization")) {
      header = &value;
      ++count;
    }
  constexpr const char* realm = "Bearer realm=\"troupe\"";
  if (count == 0) {
    out.why = "no Authorization header";
    out.refusal =
        challenge(errc::unauthenticated, "this route needs a bearer token", request.id, realm);
    return out;
  }
  auto invalid = [&](std::string why) {
    log_refusal(request, why);
    out.why = std::move(why);
    out.refusal = challenge(errc::unauthenticated, "the bearer token is not valid", request.id,
                            std::string(realm) + ", error=\"invalid_token\"");
    return out;
  };
  if (count > 1) return invalid("more than one Authorization header");
  // "Bearer" is case-insensitive (RFC 7235); one space, then the token, nothing after it.
  std::string_view value = *header;
  constexpr std::string_view scheme = "bearer ";
  if (value.size() <= scheme.size() || !ascii_iequals(value.substr(0, scheme.size()), scheme))
    return invalid("the Authorization scheme is not Bearer");
  auto verdict = verifier->verify(value.substr(scheme.size()), now);
  if (!verdict) return invalid(verdict.why);
  if (!r.scope.empty() && !verdict.who->has_scope(r.scope) &&
      !verdict.who->has_scope(admin_scope)) {
    out.why = "the token of '" + security::printable(verdict.who->subject, 64) + "' lacks scope " +
              r.scope;
    log_refusal(request, out.why);
    out.refusal =
        challenge(errc::forbidden, "this route needs the scope '" + r.scope + "'", request.id,
                  std::string(realm) + ", error=\"insufficient_scope\", scope=\"" + r.scope + "\"");
    return out;
  }
  out.who = std::move(verdict.who);
  return out;
}

}  // namespace troupe
