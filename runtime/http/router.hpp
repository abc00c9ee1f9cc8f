// The route table of an HTTP entry, built from the routes the capabilities declare (see
// route.hpp). Plain data and a matcher: the server asks it for limits before reading a body,
// the gateway runs the matched route.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

#include "runtime/http/message.hpp"

namespace troupe {

struct route_call;  // route.hpp: what a route's run function gets

// One route: METHOD + path template, answered by one capability.
struct route {
  http_method method = http_method::get;
  std::string path;            // "/api/users/{id}": literal segments and whole-segment {name}s
  std::size_t body_limit = 0;  // bytes of body accepted; 0: none
  std::string media_type = "application/json";  // the Content-Type a body must have
  std::string capability;                       // who answers; set from the declaring capability
  // The request's budget from its arrival; 0: the gateway's request_timeout_ms. The
  // topology's "http": {"route_timeouts_ms": {"GET /api/users/{id}": 2000}} overrides it.
  std::chrono::milliseconds timeout{0};
  // Sending its message twice has the effect of sending it once, so the caller may retry it
  // after a transport failure. make_route sets it for GET, HEAD, PUT, DELETE and OPTIONS.
  bool idempotent = false;
  // Who may call it. Every route needs a verified bearer token unless it is public; one
  // with a scope ("inventory:write") needs a token holding that scope too.
  bool public_access = false;
  std::string scope;
  std::function<void(route_call&)> run;  // request -> message -> call -> response
  // The first half of run without the call: the request's body parsed and turned into the
  // route's message, which is then dropped. The error the client would get, or none. For
  // tests and fuzzing (fuzz/).
  std::function<caf::error(const http_request&)> map;
};

class router {
 public:
  // Throws std::invalid_argument for a malformed template or a route declared twice.
  explicit router(std::vector<route> routes);

  struct match {
    enum kind_type { found, not_found, method_not_allowed } kind = not_found;
    int index = -1;                        // found: the route
    std::vector<std::string> params;       // found: {name} values, percent-decoded
    std::string allow;                     // method_not_allowed: "GET, POST"
    std::string_view label = "unmatched";  // the template for metrics, "unmatched" if none
  };
  match find(http_method method, std::string_view path) const;

  const route& at(int index) const { return routes_.at(static_cast<std::size_t>(index)); }
  const std::vector<route>& routes() const { return routes_; }
  std::size_t max_body() const { return max_body_; }

 private:
  struct segment {
    bool parameter = false;
    std::string literal;  // when not a parameter
    bool operator==(const segment& o) const {
      return parameter == o.parameter && literal == o.literal;
    }
  };
  struct compiled {
    std::vector<segment> segments;
  };
  // Whether `path` fits `c`, walking both without allocating.
  static bool fits(const compiled& c, std::string_view path);
  std::vector<route> routes_;
  std::vector<compiled> compiled_;
  std::size_t max_body_ = 0;
};

// How topologies name a route: "GET /api/users/{id}" (method and template).
std::string route_name(const route& r);

// Percent-decoding; false when an escape is malformed.
bool percent_decode(std::string_view in, std::string& out);

// The query string of a request target as (name, value) pairs, percent-decoded, in order;
// nullopt when an escape is malformed or there are more than `max_params`.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(
    std::string_view target, std::size_t max_params = 16);

}  // namespace troupe
