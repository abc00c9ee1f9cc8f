// SIGTERM drains: /ready turns 503 at once, a request already received still gets its
// answer, and the node exits 0 afterwards.
#include <catch2/catch.hpp>

#include <csignal>
#include <future>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("a node asked to stop answers the requests it already has before it exits") {
  temp_dir dir;
  two_node_cluster cluster{dir, R"("gateway": {"request_timeout_ms": 1500})"};
  auto& core = cluster.core();
  auto& edge = cluster.edge();
  http_client admin{edge.admin()};

  // Hold a request in flight: the users node is frozen, so it waits for its deadline.
  core.process().signal(SIGSTOP);
  auto pending = std::async(std::launch::async, [where = edge.http()] {
    http_client api{where};
    try {
      return api.get("/api/users/anyone").status;
    } catch (const std::exception&) {
      return -1;  // the connection was cut instead of answered
    }
  });
  REQUIRE(eventually([&] { return gateway_calls_in_flight(edge.admin()) == 1; }, 5s));

  edge.process().signal(SIGTERM);
  CHECK(eventually(
      [&] {
        try {
          auto ready = admin.get("/ready");
          return ready.status == 503 && ready.body.find("shutting down") != std::string::npos;
        } catch (const std::exception&) {
          return false;
        }
      },
      1s));
  CHECK(pending.get() == 504);  // answered at its deadline, not reset
  CHECK(edge.process().wait(10s) == 0);
  core.process().signal(SIGCONT);
  CHECK(core.stop() == 0);
}
