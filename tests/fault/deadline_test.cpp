// Deadlines set per request and per route: a slow participant (a failpoint that hangs it)
// makes the request end with 504 at the deadline the client or the topology chose, and the
// work it asked for does not happen afterwards.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE(
    "a client's X-Request-Timeout-Ms ends a slow create at its deadline; nothing is created") {
  temp_dir dir;
  process_options slow_create;
  slow_create.env = {"TROUPE_FAILPOINTS=users.create=hang:1500*1"};
  two_node_cluster cluster{dir, {}, slow_create};
  http_client api{cluster.edge().http()};

  auto t0 = std::chrono::steady_clock::now();
  auto late = api.request("POST", "/api/users", R"({"id":"slow","name":"Slow","email":"s@x.io"})",
                          {{"Content-Type", "application/json"}, {"X-Request-Timeout-Ms", "300"}});
  auto took = ms_since(t0);
  INFO(late.body);
  CHECK(late.status == 504);
  CHECK(json::parse(late.body)["error"]["code"] == "outcome_unknown");
  CHECK(took >= 300);
  CHECK(took < 900);  // the deadline, not the 1.5 s hang nor the 5 s default
  std::printf("504 after %.0f ms for a 300 ms budget\n", took);

  // Reads queue behind the hung create in the users actor and its store, so a read the store
  // answers comes after the create was decided: the store refused it, its deadline having
  // passed. (A read that waited over a second behind the hang is shed with 503 first.)
  CHECK(eventually([&] { return api.get("/api/users/slow").status == 404; }, 5s, 20ms));
  CHECK(api.get("/api/users/slow").status == 404);
  auto bad = api.request("GET", "/api/users/slow", "", {{"X-Request-Timeout-Ms", "soon"}});
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["error"]["field"] == "X-Request-Timeout-Ms");
}

TEST_CASE("a route's timeout from the topology, and the bound on what a client may ask") {
  temp_dir dir;
  process_options slow_get;
  slow_get.env = {"TROUPE_FAILPOINTS=users.get=hang:1200*2"};
  cluster c{dir,
            two_node_plan(),
            R"("gateway": {"request_timeout_ms": 400, "max_request_timeout_ms": 500})",
            {{"core", slow_get}},
            R"("http": {"route_timeouts_ms": {"GET /api/users/{id}": 250}})"};
  http_client api{c.http()};

  auto t0 = std::chrono::steady_clock::now();
  auto by_route = api.get("/api/users/nobody");
  auto took = ms_since(t0);
  CHECK(by_route.status == 504);
  CHECK(took >= 250);
  CHECK(took < 800);

  // Asking for 100 s gets the gateway's bound (500 ms), not 100 s.
  t0 = std::chrono::steady_clock::now();
  auto capped = api.request("GET", "/api/users/nobody", "", {{"X-Request-Timeout-Ms", "100000"}});
  took = ms_since(t0);
  CHECK(capped.status == 504);
  CHECK(took >= 500);
  CHECK(took < 1100);
  // The failpoint is spent: the route answers normally within its 250 ms.
  CHECK(eventually([&] { return api.get("/api/users/nobody").status == 404; }, 5s));
}
