#include "tests/support/cluster.hpp"

#include <csignal>
#include <stdexcept>
#include <thread>

#include "tests/support/http_client.hpp"

namespace troupe::test {

troupe_node::troupe_node(std::vector<std::string> args, const std::string& workdir,
                         const std::string& label) {
  args.insert(args.begin(), troupe_binary());
  proc_ = std::make_unique<child_process>(std::move(args), workdir, workdir + "/" + label);
  auto line = proc_->wait_for_line("troupe: ready", std::chrono::seconds{30});
  http_ = field_of(line, "http");
  admin_ = field_of(line, "admin");
}

void troupe_node::kill_hard() {
  proc_->signal(SIGKILL);
  proc_->wait(std::chrono::seconds{10});
}

int troupe_node::stop() {
  proc_->signal(SIGTERM);
  return proc_->wait(std::chrono::seconds{30});
}

two_node_files write_two_node_topology(const temp_dir& dir, const std::string& settings) {
  auto addr = [] { return "127.0.0.1:" + std::to_string(free_port()); };
  two_node_files f{dir.file("two-nodes.json"), addr(), addr(), addr()};
  auto edge_listen = addr(), core_listen = addr();
  dir.write("two-nodes.json", R"({
  "name": "shop-test",
  "data_dir": ")" + dir.file("var") +
                                  R"(",
  "nodes": {
    "edge": { "listen": ")" + edge_listen +
                                  R"(", "admin": ")" + f.edge_admin + R"(", "http": ")" +
                                  f.edge_http + R"(",
              "capabilities": ["gateway"] },
    "core": { "listen": ")" + core_listen +
                                  R"(", "admin": ")" + f.core_admin + R"(",
              "capabilities": ["users"] }
  },
  "capabilities": {)" + settings + R"(}
})");
  return f;
}

two_node_cluster::two_node_cluster(const temp_dir& dir, const std::string& settings)
    : dir_(dir), files_(write_two_node_topology(dir, settings)) {
  start_core();
  edge_ = std::make_unique<troupe_node>(
      std::vector<std::string>{"run", "--topology", files_.topology, "--node", "edge"}, dir.path(),
      "edge");
  http_client admin{edge_->admin()};
  if (!eventually([&] { return admin.get("/ready").status == 200; }, std::chrono::seconds{10}))
    throw std::runtime_error("edge did not become ready within 10 s");
}

void two_node_cluster::start_core() {
  core_ = std::make_unique<troupe_node>(
      std::vector<std::string>{"run", "--topology", files_.topology, "--node", "core"}, dir_.path(),
      "core-" + std::to_string(++core_starts_));
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

}  // namespace troupe::test
