// A capability on another node crashes and is restarted by its supervisor while its node
// stays up: the caller gets an answer (not a hang), the edge drops only that handle, fetches
// the new one, and serves again without a manual step.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("a remote capability that crashes and restarts is served again, its node untouched") {
  temp_dir dir;
  process_options crash_once;
  crash_once.env = {"TROUPE_FAILPOINTS=users.get=crash*1"};  // the first read crashes users
  two_node_cluster cluster{dir, {}, crash_once};
  auto& core = cluster.core();
  auto& edge = cluster.edge();
  http_client api{edge.http()};
  http_client admin{edge.admin()};
  REQUIRE(api.post_json("/api/users", R"({"id":"eva","name":"Eva","email":"eva@example.com"})")
              .status == 201);

  auto crashed = api.get("/api/users/eva");
  CHECK(crashed.status == 500);
  auto error = json::parse(crashed.body)["error"];
  CHECK(error["code"] == "internal");
  CHECK(crashed.body.find("failpoint") == std::string::npos);  // the detail stays in the log
  auto id = crashed.headers.at("x-request-id");
  CHECK(eventually(
      [&] {
        return edge.process().err().find("request " + id + ": failpoint users.get") !=
               std::string::npos;
      },
      5s));

  // core restarts users by itself; edge fetches the new handle; the user is still there.
  CHECK(eventually([&] { return api.get("/api/users/eva").status == 200; }, 15s));
  CHECK(json::parse(api.get("/api/users/eva").body)["email"] == "eva@example.com");
  CHECK(admin.get("/ready").status == 200);
  CHECK(core.process().running());  // the node never went away
  CHECK(core.process().err().find("capability 'users': entry died") != std::string::npos);
  auto edge_log = edge.process().err();
  CHECK(edge_log.find("capability 'users' on node 'core' went down") != std::string::npos);
  CHECK(edge_log.find("capability 'users' on node 'core' is back") != std::string::npos);
  CHECK(edge_log.find("lost node") == std::string::npos);  // only the capability was dropped
  CHECK(edge.stop() == 0);
  CHECK(core.stop() == 0);
}
