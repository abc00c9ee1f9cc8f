// Supervision in a real node: a store that throws in the middle of a stream of writes is
// restarted alone (one-for-one) and every acknowledged write is there afterwards; a
// capability that exceeds its restart intensity is reported down while the node keeps
// serving the others, or takes the node down when its topology says so.
#include <catch2/catch.hpp>

#include <future>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::vector<node_plan> one_node(const std::string& failpoints) {
  auto plan = one_node_plan();
  plan.front().failpoints = failpoints;
  return plan;
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

std::string user_body(const std::string& id) {
  return R"({"id":")" + id + R"(","name":"N )" + id + R"(","email":")" + id + R"(@example.com"})";
}

}  // namespace

TEST_CASE("a store that throws mid-stream is restarted alone; every acknowledged write stays") {
  temp_dir dir;
  cluster c{dir, one_node("users.store.create=crash*1@60")};
  http_client admin{c.node("dev").admin()};
  // Four clients write at once, so the store has uncommitted writes of others when it dies.
  struct refusal {
    http_result answer;
    std::chrono::steady_clock::duration took;
  };
  std::vector<std::future<std::pair<std::vector<std::string>, std::vector<refusal>>>> writers;
  for (int w = 0; w < 4; ++w)
    writers.push_back(std::async(std::launch::async, [w, where = c.http()] {
      http_client api{where};
      std::vector<std::string> acknowledged;
      std::vector<refusal> refusals;
      for (int i = 0; i < 50; ++i) {
        auto id = "w" + std::to_string(w) + "-" + std::to_string(i);
        auto t0 = std::chrono::steady_clock::now();
        auto r = api.post_json("/api/users", user_body(id));
        if (r.status == 201) {
          acknowledged.push_back(id);
        } else {
          refusals.push_back({r, std::chrono::steady_clock::now() - t0});
        }
      }
      return std::make_pair(acknowledged, refusals);
    }));
  std::vector<std::string> acknowledged;
  int refused = 0, crashed_in = 0;
  for (auto& w : writers) {
    auto [ids, failed] = w.get();
    acknowledged.insert(acknowledged.end(), ids.begin(), ids.end());
    refused += static_cast<int>(failed.size());
    for (auto& f : failed) {
      // The write that threw gets the crash as its answer (500). The others the store held
      // when it died are answered at once (it may or may not have committed them), not at
      // the 5 s deadline; the rest are refused unsent while it restarts.
      INFO(f.answer.status << " " << f.answer.body);
      CHECK(f.took < 2s);
      if (f.answer.status == 500)
        ++crashed_in;
      else
        CHECK((f.answer.body.find("outcome_unknown") != std::string::npos ||
               (f.answer.status == 503 && f.answer.headers.count("retry-after") == 1)));
    }
  }
  CHECK(crashed_in <= 1);
  INFO(acknowledged.size() << " acknowledged, " << refused << " refused");
  CHECK(refused >= 1);  // the crash hit at least the write it happened in
  CHECK(acknowledged.size() + refused == 200);
  CHECK(acknowledged.size() >= 50);  // those before the crash, less its uncommitted batch

  http_client api{c.http()};
  int missing = 0;
  for (auto& id : acknowledged)
    if (api.get("/api/users/" + id).status != 200) ++missing;
  CHECK(missing == 0);
  // The store alone was restarted, once, and serves again.
  auto metrics = admin.get("/metrics").body;
  CHECK(has(metrics, R"(capability_restarts_total{actor="store",capability="users"} 1)"));
  CHECK_FALSE(has(metrics, R"(capability_restarts_total{actor="all",capability="users"})"));
  // (The writers may have finished within the restart's backoff: writes then get 503.)
  CHECK(eventually([&] { return api.post_json("/api/users", user_body("after")).status == 201; },
                   5s, 20ms));
  CHECK(eventually([&] { return admin.get("/health").status == 200; }, 5s));
  auto health = admin.get("/health").body;
  CHECK(has(health, "1 restarts"));
  std::printf("store crash mid-stream: %zu acknowledged, %d refused, 0 lost\n", acknowledged.size(),
              refused);
}

TEST_CASE("past its restart intensity a capability is down; the node serves the others") {
  temp_dir dir;
  cluster c{dir, one_node("users.store.create=crash"),
            R"("users": {"supervision": {"max_restarts": 1, "backoff_min_ms": 10}})"};
  http_client api{c.http()};
  http_client admin{c.node("dev").admin()};
  REQUIRE(api.request("PUT", "/api/inventory/A", R"({"quantity":5,"price":100,"currency":"EUR"})",
                      {{"Content-Type", "application/json"}})
              .status == 200);
  // Every create crashes the users store: the first is restarted, the second gives up.
  CHECK(api.post_json("/api/users", user_body("a")).status != 201);
  REQUIRE(eventually(
      [&] {
        api.post_json("/api/users", user_body("b"));
        return has(admin.get("/metrics").body, R"(capability_up{capability="users"} 0)");
      },
      10s, 50ms));
  auto health = admin.get("/health");
  CHECK(health.status == 503);
  CHECK(has(health.body, "down: restart intensity exceeded"));
  CHECK(has(health.body, "store"));  // what failed
  // Users is refused at once; inventory, which does not need users, serves as before.
  auto users = api.get("/api/users/a");
  CHECK(users.status == 503);
  CHECK(json::parse(users.body)["error"]["code"] == "unavailable");
  CHECK(api.get("/api/inventory/A").status == 200);
  CHECK(api.request("PUT", "/api/inventory/B", R"({"quantity":1,"price":100,"currency":"EUR"})",
                    {{"Content-Type", "application/json"}})
            .status == 200);
  CHECK(admin.get("/ready").status == 200);
  CHECK(c.node("dev").process().running());
  CHECK(c.stop("dev") == 0);
}

TEST_CASE("with on_give_up exit_node, a capability past its intensity stops the node (exit 3)") {
  temp_dir dir;
  cluster c{dir, one_node("users.store.create=crash"),
            R"("users": {"supervision": {"max_restarts": 0, "on_give_up": "exit_node"}})"};
  http_client api{c.http()};
  api.post_json("/api/users", user_body("a"));
  CHECK(c.wait_exit("dev", 10s) == 3);
}
