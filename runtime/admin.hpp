// The admin surface every node serves: /health, /ready, /metrics.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/http.hpp"

namespace troupe {

class metrics;

// Answers http_exchange messages for /health (asks every supervisor) and /ready (asks the
// directory).
caf::actor spawn_admin(caf::actor_system& system, std::string node, caf::actor directory,
                       std::vector<std::pair<std::string, caf::actor>> supervisors);

// Set when the node begins to shut down: /ready answers 503 from then on, so that load
// balancers stop sending traffic while in-flight requests drain.
using shutdown_flag = std::shared_ptr<std::atomic<bool>>;

// An HTTP handler that serves the admin paths and passes every other request to `next`
// (or answers 404 when there is none).
http_handler make_admin_handler(caf::actor admin, metrics& sink, shutdown_flag stopping,
                                http_handler next = {});

}  // namespace troupe
