// A capability as a binary lists it: a name, what it calls, its settings, its typed
// protocol's types, a spawn function, and its HTTP routes. The runtime places it on a node
// from the topology; other capabilities reach it only through the directory and the caller.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/cluster/directory_view.hpp"
#include "runtime/cluster/readiness_gates.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/settings.hpp"
#include "runtime/http/entry.hpp"
#include "runtime/supervision/child.hpp"

namespace troupe {

class metrics;

// What a capability's spawn function gets from the node that hosts it.
struct capability_context {
  caf::actor_system* system = nullptr;
  std::string name;                      // "users"
  std::string node;                      // hosting node
  std::string database_path;             // <data_dir>/<node>/<name>.db, its own SQLite file
  std::any settings;                     // what the capability's read_settings made of the topology
  caf::actor directory;                  // see cluster/directory.hpp
  std::shared_ptr<directory_view> view;  // for callers: handles of what it calls
  std::vector<std::string> calls;        // the capabilities it calls, as the topology resolved
  // An HTTP entry's route table and token verifier (http/entry.hpp); null for the others.
  std::shared_ptr<const http_entry_context> http_entry;
  int scheduler_threads = 1;
  metrics* node_metrics = nullptr;
  std::shared_ptr<readiness_gates> gates;  // hold one while not ready (e.g. recovering sagas)
  // Declares a child the supervisor restarts on its own under one-for-one (its store, say);
  // siblings reach it through the child_ref. Empty outside a supervisor (tests): then use
  // supervised() below, which spawns the child once.
  supervise_function supervise;
  // Work waiting longer than its bound in queues is shed, and counted (core/error.hpp).
  queue_bound shedding;

  std::shared_ptr<child_ref> supervised(const std::string& name,
                                        std::function<caf::actor()> start) const {
    if (supervise) return supervise(name, std::move(start));
    return std::make_shared<child_ref>(name, start());
  }

  template <class T>
  const T& settings_as() const {
    return std::any_cast<const T&>(settings);
  }
};

// A read model a capability keeps, which `troupe projections rebuild NAME` rebuilds from the
// event history while its node is stopped.
struct projection {
  std::string name;
  // Rebuilds from the capability's database (`database_path`, as the node would open it);
  // calls progress(done, total) as it goes; returns the number of events applied.
  std::function<std::int64_t(const std::string& database_path,
                             const std::function<void(std::int64_t, std::int64_t)>& progress)>
      rebuild;
};

struct capability {
  std::string name;
  std::vector<std::string> calls;  // capabilities it calls
  // The operations others may call (its messages), as the topology's "permissions" name
  // them; a permission naming another is refused when the topology is read.
  std::vector<std::string> operations;
  // The error codes of its business answers (core/error.hpp error_code), registered on every
  // node so that any node can name them (a saga's result, say).
  std::vector<error_code> errors;
  bool has_database = false;  // keeps <name>.db, which the node checks for /health
  // Reads its settings (the topology's "capabilities": {name: {...}}, {} when absent) into
  // whatever struct it uses; throws settings_error. Empty: it takes no settings.
  std::function<std::any(settings_reader&)> read_settings;
  // Registers the protocol's message types. Called on every node for every capability the
  // binary knows, so that type names match across nodes.
  std::function<void(caf::actor_system_config&)> register_types;
  // Builds the capability's actors and returns its entry actor (which must answer
  // health_atom with a health_report). Actors that may be restarted alone (one-for-one) are
  // declared with context.supervised(); the entry must not link to them. Called again by the
  // supervisor after the entry crashes. May throw: that counts as a crash.
  std::function<caf::actor(const capability_context&)> spawn;
  // Its HTTP routes (see http/route.hpp); the gateway serves them wherever it runs.
  std::vector<route> routes;
  // It owns sagas: its entry actor answers saga::list_sagas and saga::find_saga, which the
  // node's admin listener serves as GET /sagas and /sagas/{id}.
  bool owns_sagas = false;
  // It has long-running work to finish on SIGTERM: its entry answers drain_atom
  // (core/atoms.hpp) with true once that work is done, and takes no new such work meanwhile.
  bool drains = false;
  std::vector<projection> projections;
  // Set for its node's HTTP entry (the gateway): see http/entry.hpp.
  std::shared_ptr<const troupe::http_entry> http_entry;
};

}  // namespace troupe
