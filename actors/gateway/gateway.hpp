// The gateway capability: the HTTP entry actor. It receives every API request from the
// node's HTTP server (as an http_exchange), routes it to a capability with a deadline, and
// maps the reply or error to HTTP. It calls "users".
#pragma once

#include <chrono>

#include "runtime/capability.hpp"

namespace troupe::gateway {

struct gateway_config {
  caf::actor directory;
  std::chrono::milliseconds request_timeout{5000};  // deadline given to each call
};

caf::actor spawn_gateway(caf::actor_system& system, gateway_config config);

// Settings (topology "capabilities": {"gateway": {...}}): "request_timeout_ms".
capability gateway_capability();

}  // namespace troupe::gateway
