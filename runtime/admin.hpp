// The admin surface every node serves: /health, /ready, /metrics.
#pragma once

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

// An HTTP handler that serves the admin paths and passes every other request to `next`
// (or answers 404 when there is none).
http_handler make_admin_handler(caf::actor admin, metrics& sink, http_handler next = {});

}  // namespace troupe
