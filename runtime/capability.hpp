// A capability: a name, a typed protocol, and a spawn function. The runtime places it on a
// node from the topology; other capabilities reach it only through the directory.
#pragma once

#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/topology.hpp"

namespace troupe {

class metrics;

// What a capability's spawn function gets from the node that hosts it.
struct capability_context {
  caf::actor_system* system = nullptr;
  std::string name;           // "users"
  std::string node;           // hosting node
  std::string database_path;  // <data_dir>/<node>/<name>.db, its own SQLite file
  std::string settings_json;  // the topology's "capabilities" entry, "{}" when absent
  caf::actor directory;       // subscribe/lookup other capabilities here (see directory.hpp)
  metrics* node_metrics = nullptr;
};

struct capability {
  capability_traits traits;  // name, what it calls, whether it serves HTTP
  // Registers the protocol's message types. Called on every node for every capability the
  // binary knows, so that type names match across nodes.
  std::function<void(caf::actor_system_config&)> register_types;
  // Builds the capability's actors and returns its entry actor (which must answer
  // health_atom with a health_report). Called again by the supervisor after a crash.
  // May throw: that counts as a crash.
  std::function<caf::actor(const capability_context&)> spawn;
};

}  // namespace troupe
