// Node bootstrap and the troupe command line. `main` lists the capabilities the binary can
// host and calls troupe_main; everything else is decided by the topology.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/node/capability.hpp"
#include "runtime/node/topology.hpp"

namespace troupe {

struct node_options {
  topology topo;
  std::string topology_file;                 // for messages; "embedded default" in dev mode
  std::string node;                          // must be a node of topo
  std::optional<address> http_override;      // --http
  std::optional<std::string> data_override;  // --data
};

// How a node splits this machine's cores: an HTTP entry's node gives half of them to Beast's
// I/O threads and the rest to CAF's scheduler, so the two do not oversubscribe the cores;
// any other node gives all of them to the scheduler. At least one of each.
struct thread_plan {
  int http_io = 0;
  int scheduler = 1;
};
thread_plan plan_threads(bool serves_http);

// Prepares an actor system config as every node does: middleman, troupe's error category,
// the runtime's and every capability's message types (same names everywhere), `scheduler`
// threads (0: as for a node without HTTP), middleman heartbeats (`detection`: the
// topology's "cluster" section; the same on every node), and with `tls` (this node's files,
// cluster_tls::for_node) CAF's OpenSSL module. Tools that talk to nodes use it too.
void configure_node_system(caf::actor_system_config& cfg, const std::vector<capability>& known,
                           int scheduler = 0, const failure_detection& detection = {},
                           const cluster_tls& tls = {});

// Runs one node until SIGINT or SIGTERM (which the caller must have blocked in every thread,
// see block_stop_signals). The ready line is printed, and /ready answers 200, only once every
// capability the node hosts has started, every capability they call is reachable, and the
// listeners are bound. Returns the process exit status: 0 after a signal, 1 when a listener
// cannot bind, 3 when a capability cannot start or its supervisor gives up on it.
int run_node(const node_options& options, const std::vector<capability>& known);

// The command line:
//   troupe [--http HOST:PORT] [--data DIR]            dev mode, the embedded default topology
//   troupe run --topology FILE --node NAME [--http HOST:PORT] [--data DIR]
//   troupe topology check FILE | troupe topology default
// Bad configuration exits 2 with a message naming the file, the JSON path and the problem.
int troupe_main(int argc, char** argv, const std::vector<capability>& known,
                const std::string& default_topology_json);

}  // namespace troupe
