// The directory: capability name -> handle, local actor or remote proxy. Calling code
// cannot tell which and must not try. One per node.
//
// Protocol (dynamically typed actor):
//   (register_atom, name, strong_actor_ptr)  a local capability (re)started; null: it is down.
//   (lookup_atom, name)                      -> strong_actor_ptr, or errc::unavailable now.
//   (lookup_atom, name, bool local_only)     same; with true, only capabilities hosted here.
//   (subscribe_atom, name)                   the sender gets (update_atom, name, handle) now
//                                            and on every change; null handle: unavailable.
//   (ready_atom)                             -> readiness: local capabilities started and
//                                            every remote capability they call reachable.
//
// Remote capabilities are fetched from their hosting node's node actor, monitored, dropped
// the moment a monitor fires, and fetched again with exponential backoff.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/topology.hpp"

namespace troupe {

struct directory_config {
  std::string node;
  topology topo;
  std::vector<std::string> local;   // capabilities hosted here
  std::vector<std::string> remote;  // capabilities hosted elsewhere that local ones call
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{1000};
  std::chrono::milliseconds lookup_timeout{2000};
};

caf::actor spawn_directory(caf::actor_system& system, directory_config config);

// The actor a node publishes on its "listen" address: answers (lookup_atom, name, bool)
// with handles of capabilities hosted on this node only (never relayed).
caf::actor spawn_node_actor(caf::actor_system& system, caf::actor directory);

}  // namespace troupe
