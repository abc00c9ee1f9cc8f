// The topology's "http": limits of every HTTP listener of a node, read and checked.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "runtime/core/settings.hpp"

namespace troupe {

// "http": limits of every HTTP listener.
struct http_settings {
  int max_connections = 10000;
  std::size_t header_bytes = 16 << 10;
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds header_timeout{10000};  // "header_timeout_ms"
  std::int64_t min_body_rate = 1024;                // "min_body_rate", bytes per second
  // "route_timeouts_ms": {"POST /api/orders": 15000}: a declared route's budget, overriding
  // what the route declares.
  std::map<std::string, std::chrono::milliseconds> route_timeouts;
};

// Reads "http"; `declared_route("GET /api/users/{id}")` says whether a capability declares
// the route a "route_timeouts_ms" key names. Throws settings_error.
http_settings read_http_settings(settings_reader& r,
                                 const std::function<bool(const std::string&)>& declared_route);

}  // namespace troupe
