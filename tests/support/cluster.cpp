#include "tests/support/cluster.hpp"

#include <csignal>
#include <thread>

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
  "data_dir": ")" + dir.file("var") + R"(",
  "nodes": {
    "edge": { "listen": ")" + edge_listen + R"(", "admin": ")" + f.edge_admin +
                                  R"(", "http": ")" + f.edge_http + R"(",
              "capabilities": ["gateway"] },
    "core": { "listen": ")" + core_listen + R"(", "admin": ")" + f.core_admin + R"(",
              "capabilities": ["users"] }
  },
  "capabilities": {)" + settings + R"(}
})");
  return f;
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
