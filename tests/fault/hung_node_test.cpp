// A hung users node (SIGSTOP: no TCP reset, nothing answers): calls end with 504 at the
// gateway's deadline, middleman heartbeats notice the silence and the node is dropped
// (503, /ready 503), and after SIGCONT service returns by itself.
#include <catch2/catch.hpp>

#include <csignal>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("a silent node gives 504 at the deadline, then is dropped, then comes back") {
  temp_dir dir;
  two_node_cluster cluster{dir, R"("gateway": {"request_timeout_ms": 300})"};
  auto& core = cluster.core();
  auto& edge = cluster.edge();
  http_client api{edge.http()};
  http_client admin{edge.admin()};
  REQUIRE(api.post_json("/api/users", R"({"id":"dan","name":"Dan","email":"dan@example.com"})")
              .status == 201);

  core.process().signal(SIGSTOP);
  auto started = std::chrono::steady_clock::now();
  auto stalled = api.get("/api/users/dan");
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(stalled.status == 504);
  // It was sent: whether it had an effect is unknown, and the answer says so.
  CHECK(json::parse(stalled.body)["error"]["code"] == "outcome_unknown");
  CHECK(elapsed >= 250ms);  // it waited for the deadline...
  CHECK(elapsed < 3s);      // ...and not for the heartbeat's 2 s timeout on top

  // Heartbeat 500 ms + connection timeout 2 s: the node is dropped, calls fail fast.
  CHECK(eventually([&] { return admin.get("/ready").status == 503; }, 6s));
  auto t0 = std::chrono::steady_clock::now();
  auto dropped = api.get("/api/users/dan");
  CHECK(dropped.status == 503);  // not sent: safe to retry, and when
  CHECK(dropped.headers.at("retry-after") == "1");
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);

  core.process().signal(SIGCONT);
  CHECK(eventually([&] { return api.get("/api/users/dan").status == 200; }, 15s));
  CHECK(admin.get("/ready").status == 200);
  CHECK(edge.stop() == 0);
  CHECK(core.stop() == 0);
}
