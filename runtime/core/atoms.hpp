// Atoms and small message types of the runtime's own protocols (directory, node, health).
#pragma once

#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace troupe {

using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using connected_atom = caf::atom_constant<caf::atom("connected")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
// To a capability's entry (through its supervisor) when its node is asked to stop: take no
// new long-running work and answer `true` once the work in flight is done (a capability
// that does not know the message has nothing to drain). The node waits up to its drain
// deadline, then stops the actors anyway: what was logged resumes after the restart.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
// To the directory: a local capability's supervisor gave up on it (it stays down).
using given_up_atom = caf::atom_constant<caf::atom("givenup")>;
// To an actor with calls pending: a deadline is due or a handle changed (calls/caller.hpp).
using call_tick_atom = caf::atom_constant<caf::atom("calltick")>;

// One line of a /health or /ready answer.
struct health_check {
  std::string name;  // "users", "users.db", "users@core"
  bool ok = false;
  std::string detail;  // why not ok, or what was checked; never a file path or a secret
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_check& x) {
  return f(caf::meta::type_name("troupe.health_check"), x.name, x.ok, x.detail);
}

using health_report = std::vector<health_check>;

// What /ready reports: ready only when every check holds.
struct readiness {
  bool ready = false;
  std::vector<health_check> checks;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, readiness& x) {
  return f(caf::meta::type_name("troupe.readiness"), x.ready, x.checks);
}

}  // namespace troupe
