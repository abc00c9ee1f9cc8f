// Starting troupe nodes as real processes for integration and fault tests.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace troupe::test {

// One running troupe process, ready (its ready line was printed).
class troupe_node {
 public:
  // `args` follow the binary name; runs in `workdir`; logs under workdir/<label>.
  // `wrapper` runs before the binary (e.g. {"ip", "netns", "exec", "ns1"}).
  troupe_node(std::vector<std::string> args, const std::string& workdir, const std::string& label,
              process_options options = {}, std::vector<std::string> wrapper = {});
  const std::string& http() const { return http_; }    // "host:port" or "-"
  const std::string& admin() const { return admin_; }  // "host:port" or "-"
  const std::string& ready_line() const { return ready_line_; }
  void kill_hard();  // SIGKILL, reaped
  int stop();        // SIGTERM, then the exit status
  child_process& process() { return *proc_; }

 private:
  std::unique_ptr<child_process> proc_;
  std::string http_, admin_, ready_line_;
};

// A node of a test topology: what it hosts and which listeners it has (ports the OS picks,
// except "listen", which peers dial: a free port, retried on a lost race).
struct node_plan {
  std::string name;
  std::vector<std::string> capabilities;
  bool http = false;
  bool listen = true;
  std::string failpoints;  // the node's "failpoints" in the topology
};

// The nodes of deploy/<deploy_file> as production places them (names, capabilities, which
// serve HTTP and which listen for peers), the HTTP entry first; the cluster gives them
// ports of their own. No placement is written in C++.
std::vector<node_plan> plan_of(const std::string& deploy_file);
// deploy/two-nodes.json: edge (gateway, HTTP) | core (users, orders, inventory, payments).
std::vector<node_plan> two_node_plan();
// deploy/three-nodes.json: edge (gateway) | shop (users, orders) | stock (inventory, payments).
std::vector<node_plan> three_node_plan();
// deploy/dev.json: everything on one node, as dev mode (with an admin listener).
std::vector<node_plan> one_node_plan();

// Any topology of real processes, started in reverse order of `nodes` (so list the HTTP
// entry first: it starts last, once what it calls is up), each ready before the next.
class cluster {
 public:
  // `settings` go into "capabilities"; `runtime` (e.g. R"("calls": {...})") is spliced into
  // the top level of the topology.
  cluster(const temp_dir& dir, std::vector<node_plan> nodes, std::string settings = {},
          std::map<std::string, process_options> options = {}, std::string runtime = {});
  troupe_node& node(const std::string& name) { return *running_.at(name); }
  bool is_running(const std::string& name) const { return running_.count(name) > 0; }
  // The HTTP entry's "host:port".
  std::string http() const;
  void kill(const std::string& name);  // SIGKILL
  int stop(const std::string& name);   // SIGTERM
  // What the latest run of `name` wrote to stderr, also after it stopped.
  std::string stderr_of(const std::string& name) const;
  // Waits for a node that is meant to die by itself (a failpoint); its exit status.
  int wait_exit(const std::string& name, std::chrono::milliseconds deadline);
  // Starts a stopped or killed node again (logs under a fresh label); `options` replace the
  // node's options for this and later starts when given.
  void start(const std::string& name, std::optional<process_options> options = std::nullopt);
  // Starts a node without waiting for its ready line (it may crash on purpose).
  std::unique_ptr<child_process> launch(const std::string& name, process_options options);
  const std::string& topology_file() const { return topology_; }
  std::string data_dir() const { return dir_.file("var"); }
  void stop_all();

 private:
  void write_topology();
  const temp_dir& dir_;
  std::vector<node_plan> nodes_;
  std::string settings_, topology_, runtime_;
  std::map<std::string, process_options> options_;
  std::map<std::string, std::uint16_t> listen_;
  std::map<std::string, int> starts_;
  std::map<std::string, std::unique_ptr<troupe_node>> running_;
};

// A topology file's text: every node with an admin listener on port 0, "http" on port 0
// where asked, "listen" on the port `listen` gives it; `settings` is spliced into
// "capabilities", `runtime` into the top level.
std::string topology_json(const temp_dir& dir, const std::vector<node_plan>& nodes,
                          const std::map<std::string, std::uint16_t>& listen,
                          const std::string& settings = {}, const std::string& runtime = {});

// The two-node topology with core listening on `core_listen`.
std::string two_node_topology(const temp_dir& dir, std::uint16_t core_listen,
                              const std::string& settings = {});

// The two-node topology running, edge ready (so core reachable) before the constructor
// returns; `core_options` apply to every start of core (failpoints, say).
class two_node_cluster {
 public:
  explicit two_node_cluster(const temp_dir& dir, const std::string& settings = {},
                            process_options core_options = {})
      : nodes_(dir, two_node_plan(), settings, {{"core", std::move(core_options)}}) {}
  troupe_node& core() { return nodes_.node("core"); }
  troupe_node& edge() { return nodes_.node("edge"); }
  void start_core() { nodes_.start("core"); }  // (again) after it was killed
  const std::string& topology_file() const { return nodes_.topology_file(); }

 private:
  cluster nodes_;
};

// The gateway's calls in flight, from the detailed /health of the listener at `admin`
// ("host:port"); -1 when it does not say.
int gateway_calls_in_flight(const std::string& admin);

// The value of one series in the /metrics of the listener at `admin`, written as the
// exposition format writes it (`requests_shed_total{capability="users",reason="deadline"}`);
// -1 when the node does not have it.
double metric_value(const std::string& admin, const std::string& series);

}  // namespace troupe::test
