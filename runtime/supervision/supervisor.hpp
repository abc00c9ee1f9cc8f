// A capability's supervisor, one per hosted capability. It starts the capability (its entry
// actor, and the children the spawn function declares through `supervise`), registers the
// entry with the directory, and restarts what crashes, as the capability's strategy says:
//
//   one_for_one  a declared child that crashes is restarted alone; its child_ref hands the
//                new actor to its siblings. The entry actor's crash restarts everything:
//                the children hang off it.
//   all_for_one  any crash stops every actor of the capability and starts it all again.
//
// Restarts wait an exponential backoff with jitter. More than `max_restarts` within
// `window` and the supervisor gives up: every actor of the capability is stopped, /health
// reports it down with the last failure, capability_up{capability} says 0, a log line says
// why, and `on_give_up` tells the node, which keeps its other capabilities serving or exits
// (topology: on_give_up, see node.hpp).
//
// A restarted actor starts from its store: state is what was committed, and a write is
// acknowledged only after its commit, so a crash loses nothing acknowledged.
//
// Protocol: (health_atom) -> health_report: the capability's own report plus its restarts,
// or a failing check while it is restarting or down. (drain_atom, milliseconds) -> bool:
// forwarded to the entry (core/atoms.hpp), answered when it is drained or the time is up.
// Exit it to stop the capability.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/core/backoff.hpp"
#include "runtime/core/settings.hpp"
#include "runtime/supervision/child.hpp"

namespace troupe {

class metrics;

// Topology: "capabilities": {"users": {"supervision": {"strategy": "one_for_one",
//   "max_restarts": 5, "window_ms": 30000, "backoff_min_ms": 100, "backoff_max_ms": 5000,
//   "on_give_up": "isolate"}}}.
struct supervision_settings {
  int max_restarts = 5;  // within `window`; one more and it gives up
  std::chrono::milliseconds window{30000};
  backoff_policy backoff{std::chrono::milliseconds{100}, std::chrono::milliseconds{5000}};
  enum class strategy_kind { one_for_one, all_for_one } strategy = strategy_kind::one_for_one;
  // isolate: the node keeps serving its other capabilities; exit_node: the node exits 3.
  enum class give_up_kind { isolate, exit_node } on_give_up = give_up_kind::isolate;
};
using restart_policy = supervision_settings;

// Reads a capability's "supervision". Throws settings_error.
supervision_settings read_supervision_settings(settings_reader& r);

// Builds the capability's actors and returns its entry actor (which must answer health_atom
// with a health_report); declares restartable children with `supervise`. Called again after
// the entry crashes. May throw: that counts as a crash.
using start_function = std::function<caf::actor(const supervise_function& supervise)>;

// Called (from an actor thread) when the supervisor gives up on its capability, with the
// last failure.
using give_up_handler = std::function<void(const std::string& capability, const std::string& why)>;

caf::actor spawn_supervisor(caf::actor_system& system, std::string capability, start_function start,
                            caf::actor directory, supervision_settings settings = {},
                            give_up_handler on_give_up = {}, metrics* sink = nullptr);

}  // namespace troupe
