// Waiting, without blocking an actor, until capabilities are reachable through a directory
// view: for work that must not start before its callees can be called (resuming sagas after
// a restart, when the peers' nodes are still being connected).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/cluster/directory_view.hpp"

namespace troupe {

// An actor that answers one request (ready_atom) with `true` once every capability in
// `names` has a handle in `view`, checking every `every`; then it quits.
caf::actor spawn_reachability_waiter(
    caf::actor_system& system, std::shared_ptr<directory_view> view, std::vector<std::string> names,
    std::chrono::milliseconds every = std::chrono::milliseconds{20});

}  // namespace troupe
