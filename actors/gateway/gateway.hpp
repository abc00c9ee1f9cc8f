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

#include <caf/expected.hpp>

#include "runtime/calls/caller.hpp"
#include "runtime/cluster/directory_view.hpp"
#include "runtime/http/router.hpp"
#include "runtime/node/capability.hpp"

namespace troupe::gateway {

// Topology: "capabilities": {"gateway": {"request_timeout_ms": 5000,
//   "max_request_timeout_ms": 60000, "workers": 0,
//   "retry": {"attempts": 3, "backoff_min_ms": 20, "backoff_max_ms": 500}}}.
struct gateway_settings {
  std::chrono::milliseconds request_timeout{5000};  // each request's budget, from arrival
  // The most a client may ask for with X-Request-Timeout-Ms.
  std::chrono::milliseconds max_request_timeout{60000};
  int workers = 0;  // 0: one per scheduler thread
  // For idempotent routes (see http/router.hpp route::idempotent): sends in all, backoff.
  calls::call_options::retry_policy retry{
      3, {std::chrono::milliseconds{20}, std::chrono::milliseconds{500}}};
};

struct gateway_config {
  std::shared_ptr<directory_view> view;  // resolves every capability the routes name
  std::shared_ptr<const router> routes;
  std::chrono::milliseconds request_timeout{5000};
  int workers = 1;
  std::chrono::milliseconds max_request_timeout{60000};
  calls::call_options::retry_policy retry;
  queue_bound shedding;  // requests waiting longer for a worker are shed
};

// The header a client shortens (or, up to the bound, lengthens) its request's budget with:
// whole milliseconds.
inline constexpr const char* request_timeout_header = "X-Request-Timeout-Ms";

// A request's budget: the route's own (`route_timeout`, or `fallback` when 0), replaced by
// the request's X-Request-Timeout-Ms when it has one, capped at `max`. A malformed header is
// an invalid_argument naming it.
caf::expected<std::chrono::milliseconds> request_budget(const http_request& request,
                                                        std::chrono::milliseconds route_timeout,
                                                        std::chrono::milliseconds fallback,
                                                        std::chrono::milliseconds max);

// Answers http_exchange messages (runtime/http/exchange.hpp) and health_atom.
caf::actor spawn_gateway(caf::actor_system& system, gateway_config config);

capability gateway_capability();

}  // namespace troupe::gateway
