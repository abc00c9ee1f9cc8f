// A first supervisor: one per hosted capability. It spawns the capability's entry actor,
// registers it with the directory, and restarts it with backoff when it dies, until the
// restart intensity is exceeded; then the capability is reported failed (health) and stays
// down, and `on_give_up` escalates to the node. Full strategies come later.
//
// Protocol: (health_atom) -> health_report, the capability's own report, or a failing
// check while it is down. Exit it to stop the capability.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/capability.hpp"

namespace troupe {

struct restart_policy {
  int max_restarts = 5;  // within `window`; one more and it gives up
  std::chrono::seconds window{30};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
};

// Called (from an actor thread) when the supervisor gives up on its capability, with the
// last failure: the node escalates, e.g. by shutting down with a non-zero status.
using give_up_handler = std::function<void(const std::string& capability, const std::string& why)>;

caf::actor spawn_supervisor(caf::actor_system& system, const capability& cap,
                            capability_context ctx, restart_policy policy = {},
                            give_up_handler on_give_up = {});

}  // namespace troupe
