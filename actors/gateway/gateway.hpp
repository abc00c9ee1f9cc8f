// The gateway capability: the HTTP entry. It knows no capability by name: its route table is
// built from the routes the binary's capabilities declare (runtime/http/route.hpp), and it
// calls them through the runtime's caller, with each request's deadline starting when the
// request arrived at the node.
//
// It runs as a pool of workers behind one handle (CAF's actor_pool, round robin, dispatched
// in the sending I/O thread), each with its own caller, so requests spread over every
// scheduler thread instead of queueing behind one actor. The workers share one fate: if one
// crashes, the gateway restarts as a whole.
#pragma once

#include <chrono>
#include <memory>

#include "runtime/cluster/directory_view.hpp"
#include "runtime/http/router.hpp"
#include "runtime/node/capability.hpp"

namespace troupe::gateway {

// Topology: "capabilities": {"gateway": {"request_timeout_ms": 5000, "workers": 0}}.
struct gateway_settings {
  std::chrono::milliseconds request_timeout{5000};  // each request's budget, from arrival
  int workers = 0;                                  // 0: one per scheduler thread
};

struct gateway_config {
  std::shared_ptr<directory_view> view;  // resolves every capability the routes name
  std::shared_ptr<const router> routes;
  std::chrono::milliseconds request_timeout{5000};
  int workers = 1;
};

// Answers http_exchange messages (runtime/http/exchange.hpp) and health_atom.
caf::actor spawn_gateway(caf::actor_system& system, gateway_config config);

capability gateway_capability();

}  // namespace troupe::gateway
