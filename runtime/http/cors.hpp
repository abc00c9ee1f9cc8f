// Cross-origin resource sharing (the Fetch standard's CORS protocol) for an HTTP entry:
// which web origins may call the API from a browser, answered on every response and on
// preflight requests. Plain functions over message.hpp's structs; no Beast.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/http/message.hpp"

namespace troupe {

class router;

// Topology: the gateway's "cors": {"allowed_origins": [], "allowed_headers": [...],
// "exposed_headers": [...], "allow_credentials": false, "max_age_s": 600}. No allowed origin
// (the default): CORS is off, responses carry no CORS header and OPTIONS is 405 as before.
struct cors_policy {
  // Exact origins ("https://shop.example", "http://localhost:3000"), or "*" for any.
  std::vector<std::string> allowed_origins;
  // Request headers a browser may send (besides the CORS-safelisted ones).
  std::vector<std::string> allowed_headers{"Authorization",   "Content-Type",
                                           "Idempotency-Key", "X-Request-Timeout-Ms",
                                           "traceparent",     "tracestate"};
  // Response headers a page's script may read.
  std::vector<std::string> exposed_headers{
      "X-Request-Id",    "Retry-After",      "RateLimit-Limit", "RateLimit-Remaining",
      "RateLimit-Reset", "RateLimit-Policy", "Location",        "WWW-Authenticate"};
  // Whether a browser may send cookies or HTTP authentication along (not needed for bearer
  // tokens, which a script sets itself). Not with "*".
  bool allow_credentials = false;
  std::chrono::seconds max_age{600};  // how long a browser may cache a preflight answer

  bool enabled() const { return !allowed_origins.empty(); }
  bool allows(std::string_view origin) const;
};

// Why an origin as configured is not one: it must be "*" or scheme://host[:port] with a
// lower-case http(s) scheme and nothing after the authority. Empty when it is fine.
std::string origin_problem(std::string_view origin);

// Adds the headers every response to `origin` (the request's Origin header; empty when it
// had none) carries: Vary: Origin, and for an allowed origin Access-Control-Allow-Origin,
// -Expose-Headers and -Allow-Credentials.
void add_cors_headers(const cors_policy& policy, std::string_view origin, http_response& res);

// Whether a request head is a CORS preflight: OPTIONS with an Origin and an
// Access-Control-Request-Method.
bool is_preflight(const request_head& head);

// The answer to a preflight for `path`: 204 with the allowed methods and headers, or 404
// (no route has the path), or 403 forbidden naming what is not allowed (the origin, the
// method, a header). add_cors_headers is applied afterwards, like on every response.
http_response answer_preflight(const cors_policy& policy, const router& routes,
                               std::string_view path, const request_head& head);

}  // namespace troupe
