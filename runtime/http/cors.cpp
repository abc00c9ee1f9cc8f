#include "runtime/http/cors.hpp"

#include <algorithm>

#include "runtime/http/json_io.hpp"
#include "runtime/http/router.hpp"

namespace troupe {

namespace {

// Request headers a browser sends without asking (the Fetch standard's safelist).
constexpr std::string_view safelisted[] = {"Accept", "Accept-Language", "Content-Language"};
constexpr std::size_t max_requested_headers = 32;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return ascii_iequals(n, name); });
}

}  // namespace

bool cors_policy::allows(std::string_view origin) const {
  if (origin.empty()) return false;
  for (auto& allowed : allowed_origins)
    if (allowed == "*" || allowed == origin) return true;
  return false;
}

std::string origin_problem(std::string_view origin) {
  if (origin == "*") return {};
  std::string_view rest;
  if (origin.substr(0, 7) == "http://")
    rest = origin.substr(7);
  else if (origin.substr(0, 8) == "https://")
    rest = origin.substr(8);
  else
    return "an origin is \"*\" or starts with http:// or https://";
  if (rest.empty()) return "an origin names a host";
  for (unsigned char c : rest) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':' || c == '[' || c == ']';
    if (!ok)
      return "an origin is scheme://host[:port] in lower case, with no path, query or "
             "trailing slash (browsers send it so)";
  }
  return {};
}

void add_cors_headers(const cors_policy& policy, std::string_view origin, http_response& res) {
  if (!policy.enabled()) return;
  // Caches must not hand one origin's answer to another.
  auto vary = std::find_if(res.headers.begin(), res.headers.end(),
                           [](auto& h) { return ascii_iequals(h.first, "Vary"); });
  if (vary == res.headers.end())
    res.headers.emplace_back("Vary", "Origin");
  else
    vary->second += ", Origin";
  if (!policy.allows(origin)) return;
  res.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  if (!policy.exposed_headers.empty())
    res.headers.emplace_back("Access-Control-Expose-Headers", joined(policy.exposed_headers));
  if (policy.allow_credentials)
    res.headers.emplace_back("Access-Control-Allow-Credentials", "true");
}

bool is_preflight(const request_head& head) {
  return head.method == http_method::options && !head.origin.empty() &&
         !head.preflight_method.empty();
}

http_response answer_preflight(const cors_policy& policy, const router& routes,
                               std::string_view path, const request_head& head) {
  auto refuse = [&](const std::string& why) {
    return error_response(errc::forbidden, why, head.request_id);
  };
  // Every method some route of the path takes (a method no route has gives the list).
  auto methods = routes.find(http_method::other, path);
  if (methods.kind == router::match::not_found)
    return error_response(errc::not_found, "no route for this path", head.request_id);
  if (!policy.allows(head.origin))
    return refuse("cross-origin requests from this origin are not allowed");
  auto wanted = parse_method(head.preflight_method);
  if (wanted == http_method::other || routes.find(wanted, path).kind != router::match::found)
    return refuse("Access-Control-Request-Method: this path takes " + methods.allow);
  std::string_view rest = head.preflight_headers;
  std::size_t count = 0;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto name = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (name.empty()) continue;
    if (++count > max_requested_headers)
      return refuse("Access-Control-Request-Headers: more than " +
                    std::to_string(max_requested_headers) + " headers");
    bool allowed = listed(policy.allowed_headers, name) ||
                   std::any_of(std::begin(safelisted), std::end(safelisted),
                               [&](std::string_view s) { return ascii_iequals(s, name); });
    if (!allowed)
      return refuse("Access-Control-Request-Headers: '" + std::string(name.substr(0, 64)) +
                    "' is not allowed; allowed: " + joined(policy.allowed_headers));
  }
  http_response res;
  res.status = 204;
  res.headers.emplace_back("Access-Control-Allow-Methods", methods.allow);
  if (!policy.allowed_headers.empty())
    res.headers.emplace_back("Access-Control-Allow-Headers", joined(policy.allowed_headers));
  res.headers.emplace_back("Access-Control-Max-Age", std::to_string(policy.max_age.count()));
  // The answer also depends on what was asked.
  res.headers.emplace_back("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers");
  return res;
}

}  // namespace troupe
