// Starting troupe nodes as real processes for integration and fault tests.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace troupe::test {

// One running troupe process, ready (its ready line was printed).
class troupe_node {
 public:
  // `args` follow the binary name; runs in `workdir`; logs under workdir/<label>.
  troupe_node(std::vector<std::string> args, const std::string& workdir, const std::string& label);
  const std::string& http() const { return http_; }    // "host:port" or "-"
  const std::string& admin() const { return admin_; }  // "host:port" or "-"
  void kill_hard();                                    // SIGKILL, reaped
  int stop();                                          // SIGTERM, then the exit status
  child_process& process() { return *proc_; }

 private:
  std::unique_ptr<child_process> proc_;
  std::string http_, admin_;
};

// Writes a two-node topology (edge: gateway; core: users) with fresh loopback ports.
struct two_node_files {
  std::string topology;  // path
  std::string edge_http, edge_admin, core_admin;
};
// `settings` is spliced into the "capabilities" object, e.g. "gateway": {...}.
two_node_files write_two_node_topology(const temp_dir& dir, const std::string& settings = {});

// The two-node topology running: edge (gateway, HTTP, admin) and core (users, admin), with
// edge's /ready at 200 before the constructor returns.
class two_node_cluster {
 public:
  explicit two_node_cluster(const temp_dir& dir, const std::string& settings = {});
  troupe_node& core() { return *core_; }
  troupe_node& edge() { return *edge_; }
  void start_core();  // (again) after it was killed; logs under a fresh label

 private:
  const temp_dir& dir_;
  two_node_files files_;
  int core_starts_ = 0;
  std::unique_ptr<troupe_node> core_, edge_;
};

// Polls `condition` every 20 ms until it holds or `deadline` passes; returns its last value.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline);

}  // namespace troupe::test
