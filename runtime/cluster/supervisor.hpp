// A first supervisor: one per hosted capability. It starts the capability's entry actor,
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

#include "runtime/core/backoff.hpp"

namespace troupe {

struct restart_policy {
  int max_restarts = 5;  // within `window`; one more and it gives up
  std::chrono::seconds window{30};
  backoff_policy backoff{std::chrono::milliseconds{100}, std::chrono::milliseconds{5000}};
};

// Builds the capability's actors and returns its entry actor (which must answer health_atom
// with a health_report). Called again after every crash. May throw: that counts as a crash.
using start_function = std::function<caf::actor()>;

// Called (from an actor thread) when the supervisor gives up on its capability, with the
// last failure: the node escalates, e.g. by shutting down with a non-zero status.
using give_up_handler = std::function<void(const std::string& capability, const std::string& why)>;

caf::actor spawn_supervisor(caf::actor_system& system, std::string capability, start_function start,
                            caf::actor directory, restart_policy policy = {},
                            give_up_handler on_give_up = {});

}  // namespace troupe
