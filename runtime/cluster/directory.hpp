// The directory: capability name -> handle, local actor or remote proxy. Calling code
// cannot tell which and must not try. One per node. Handles are read through its
// directory_view (see directory_view.hpp); the actor keeps the view current.
//
// Protocol (dynamically typed actor):
//   (register_atom, name, strong_actor_ptr)  a local capability (re)started; null: it is down.
//   (given_up_atom, name, why)               its supervisor gave up on it: it stays down and
//                                            no longer holds the node's readiness back.
//   (lookup_atom, name, bool local_only)     -> strong_actor_ptr, or errc::unavailable now;
//                                            with true, only capabilities hosted here (what a
//                                            node hands its peers, so handles are never relayed).
//   (ready_atom)                             -> readiness: local capabilities started, every
//                                            remote capability they call reachable, and no
//                                            readiness gate held (readiness_gates.hpp).
//
// Remote capabilities are fetched from their hosting node's node actor and monitored. When
// the node is lost, all its handles are dropped at once (old proxies never revive) and the
// node is reconnected with backoff; when one remote capability restarts while its node stays
// up, only its handle is dropped and fetched again.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/cluster/directory_view.hpp"
#include "runtime/cluster/readiness_gates.hpp"
#include "runtime/core/address.hpp"
#include "runtime/core/backoff.hpp"

namespace troupe {

// Another node, and the capabilities on it that this node calls.
struct remote_node_spec {
  std::string name;
  address where;  // its "listen" address
  std::vector<std::string> capabilities;
};

struct directory_config {
  std::string node;
  std::vector<std::string> local;          // capabilities hosted here
  std::vector<remote_node_spec> remote;    // where the others this node calls live
  std::shared_ptr<directory_view> view;    // knows every local and remote capability
  std::shared_ptr<readiness_gates> gates;  // held ones make /ready fail; may be null
  backoff_policy reconnect{std::chrono::milliseconds{50}, std::chrono::milliseconds{1000}};
  std::chrono::milliseconds lookup_timeout{2000};
  // Dial peers over TLS (CAF's OpenSSL module, configured in the actor system): the
  // topology's "security": {"tls": ...}.
  bool tls = false;
};

caf::actor spawn_directory(caf::actor_system& system, directory_config config);

// The actor a node publishes on its "listen" address: answers (lookup_atom, name, bool)
// with handles of capabilities hosted on this node only (never relayed).
caf::actor spawn_node_actor(caf::actor_system& system, caf::actor directory);

}  // namespace troupe
