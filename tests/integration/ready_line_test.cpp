// The ready line tells the truth: the moment a node prints it, every capability the node
// hosts or calls is resolved, so a request sent right then is never answered 503.
#include <catch2/catch.hpp>

#include <csignal>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A request the moment the ready line is there: an unknown user is 404 when users is
// reachable, 503 when the gateway does not have it yet.
int first_answer(const std::string& http) {
  http_client client{http};
  return client.get("/api/users/nobody").status;
}

}  // namespace

TEST_CASE("a dev-mode node answers its first request, sent at the ready line, without 503") {
  temp_dir dir;
  constexpr int starts = 20;
  int not_503 = 0;
  for (int i = 0; i < starts; ++i) {
    troupe_node node({"--http", "127.0.0.1:0", "--data", dir.file("data")}, dir.path(),
                     "dev-" + std::to_string(i));
    auto status = first_answer(node.http());
    INFO("start " << i << ": " << status);
    CHECK(status == 404);
    not_503 += status != 503;
    CHECK(node.stop() == 0);
  }
  CHECK(not_503 == starts);
  WARN("dev-mode node started " << starts << " times; first answers without 503: " << not_503);
}

TEST_CASE("an edge node answers its first request, sent at the ready line, without 503") {
  temp_dir dir;
  constexpr int starts = 8;
  for (int i = 0; i < starts; ++i) {
    two_node_cluster cluster{dir};
    auto status = first_answer(cluster.edge().http());
    INFO("start " << i << ": " << status);
    CHECK(status == 404);
    auto edge_status = cluster.edge().stop();
    INFO("edge's stderr:\n" << cluster.edge().process().err());
    CHECK(edge_status == 0);
    auto core_status = cluster.core().stop();
    INFO("core's stderr:\n" << cluster.core().process().err());
    CHECK(core_status == 0);
  }
  WARN("two-node cluster started " << starts << " times (" << 2 * starts << " nodes)");
}

TEST_CASE("a node whose callee is unreachable waits, says for what, and is ready once it is back") {
  temp_dir dir;
  for (int attempt = 0;; ++attempt) {
    auto port = free_port();  // core's listen address; edge dials it
    dir.write("t.json", two_node_topology(dir, port));
    child_process edge{{troupe_binary(), "run", "--topology", dir.file("t.json"), "--node", "edge"},
                       dir.path(),
                       dir.file("edge-" + std::to_string(attempt))};
    // Not ready while users@core cannot be reached: it says why instead.
    auto waiting = edge.wait_for_line("troupe: waiting for:", 30s);
    CHECK(waiting.find("users@core") != std::string::npos);
    CHECK(edge.out().find("troupe: ready") == std::string::npos);
    try {
      troupe_node core({"run", "--topology", dir.file("t.json"), "--node", "core"}, dir.path(),
                       "core-" + std::to_string(attempt));
      auto ready = edge.wait_for_line("troupe: ready", 30s);
      CHECK(first_answer(field_of(ready, "http")) == 404);
      edge.signal(SIGTERM);
      auto edge_status = edge.wait(30s);
      INFO("edge's stderr:\n" << edge.err());
      CHECK(edge_status == 0);
      CHECK(core.stop() == 0);
      return;
    } catch (const std::runtime_error& e) {
      // Someone else took core's port between free_port() and the bind: try another.
      if (attempt == 4 || std::string(e.what()).find("cannot listen") == std::string::npos) throw;
    }
  }
}
