// Bearer-token checks for HTTP requests (RFC 6750), shared by the gateway's routes and the
// API listener's admin paths: the route's access rule, the Authorization header, the
// verifier's verdict, and the 401/403 answer with its WWW-Authenticate challenge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/http/message.hpp"
#include "runtime/http/router.hpp"
#include "runtime/security/token_verifier.hpp"

namespace troupe {

// Who a request acts for, or the answer refusing it: 401 with WWW-Authenticate (RFC 6750)
// when the route is not public and the request has no valid bearer token, 403 when the
// token lacks the route's scope. The reason a token was refused goes to `why`, not to the
// client. `now`: seconds since the epoch.
struct authentication {
  std::optional<security::principal> who;  // empty for a public route or no verifier
  std::optional<http_response> refusal;
  std::string why;
};
authentication authenticate(const route& r, const http_request& request,
                            const security::token_verifier* verifier, std::int64_t now);

// The time authenticate() is usually given: seconds since the epoch.
std::int64_t unix_seconds();

}  // namespace troupe
