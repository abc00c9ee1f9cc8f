// Orders' fallback when users does not answer: an order for a customer orders knows from
// users' UserCreated events is still placed, marked "customer_check": "fallback"; an unknown
// customer is refused with 503, never accepted blindly. Users runs on a node of its own, which
// is killed (node down) or stopped (SIGSTOP: timeouts, then the circuit breaker opens).
#include <catch2/catch.hpp>

#include <csignal>

#include "tests/support/cluster.hpp"
#include "tests/support/shop.hpp"

using namespace troupe::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// deploy/four-nodes.json: edge (gateway) | shop (orders) | stock (inventory, payments) |
// people (users).
std::vector<node_plan> users_apart() {
  return plan_of("four-nodes.json");
}

// Orders has applied `count` of users' events.
bool customers_known(cluster& c, int count) {
  http_client admin{c.node("shop").admin()};
  return admin.get("/metrics")
             .body.find("events_applied_offset{subscription=\"orders.customers\"} " +
                        std::to_string(count)) != std::string::npos;
}

// The id of an order placed (201), with the customer check it went through.
std::pair<std::string, std::string> placed(const http_result& r) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 201);
  auto body = json::parse(r.body);
  CHECK(body["status"] == "confirmed");
  return {body["id"].get<std::string>(), body["customer_check"].get<std::string>()};
}

}  // namespace

TEST_CASE("with the users node down, a known customer's order is placed on the fallback") {
  temp_dir dir;
  cluster c{dir, users_apart()};
  shop_client shop{c.http()};
  REQUIRE(shop.create_user("alice", "Alice").status == 201);
  REQUIRE(shop.set_stock("A", 1000, 500).status == 200);
  REQUIRE(eventually([&] { return customers_known(c, 1); }, 5s));
  std::vector<std::string> orders;

  auto normal = placed(shop.place("alice", {{"A", 1}}));
  CHECK(normal.second == "verified");
  orders.push_back(normal.first);

  c.kill("people");
  auto t0 = std::chrono::steady_clock::now();
  auto fallback = placed(shop.place("alice", {{"A", 2}}));
  CHECK(fallback.second == "fallback");
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);  // no waiting out users' timeouts
  orders.push_back(fallback.first);
  CHECK(shop.order(fallback.first)["status"] == "confirmed");

  // A customer orders never heard of: 503, no order, nothing reserved or charged.
  auto unknown = shop.place("bob", {{"A", 1}});
  INFO(unknown.body);
  CHECK(unknown.status == 503);
  CHECK(json::parse(unknown.body)["error"]["code"] == "unavailable");
  CHECK(unknown.headers.count("retry-after") == 1);
  CHECK_FALSE(json::parse(unknown.body).contains("order_id"));

  // Users back: checked against users again, without a manual step.
  c.start("people");
  REQUIRE(eventually(
      [&] {
        auto r = shop.place("alice", {{"A", 1}});
        if (r.status != 201) return false;
        auto body = json::parse(r.body);
        orders.push_back(body["id"].get<std::string>());
        return body["customer_check"] == "verified";
      },
      10s, 50ms));
  auto problems = shop_invariants(shop, {{"A", 1000}}, orders, c.data_dir() + "/stock/payments.db");
  for (auto& p : problems) FAIL_CHECK(p);
  c.stop_all();
}

TEST_CASE("with users hung, timeouts open the breaker and orders fall back without waiting") {
  temp_dir dir;
  // Short steps, and a breaker that opens after two timeouts and stays open for the test.
  cluster c{
      dir,
      users_apart(),
      R"("orders": {"step_timeout_ms": 400})",
      {},
      R"("calls": {"per_callee": {"users": {"breaker": {"minimum_calls": 2, "open_ms": 60000}}}})"};
  shop_client shop{c.http()};
  REQUIRE(shop.create_user("alice", "Alice").status == 201);
  REQUIRE(shop.set_stock("A", 10, 500).status == 200);
  REQUIRE(eventually([&] { return customers_known(c, 1); }, 5s));
  http_client shop_admin{c.node("shop").admin()};
  std::vector<std::string> orders;

  c.node("people").process().signal(SIGSTOP);
  // Two checks time out (400 ms each) and fall back; the breaker opens on them.
  for (int i = 0; i < 2; ++i) {
    auto r = placed(shop.place("alice", {{"A", 1}}));
    CHECK(r.second == "fallback");
    orders.push_back(r.first);
  }
  CHECK(shop_admin.get("/metrics").body.find("call_breaker_state{callee=\"users\"} 1") !=
        std::string::npos);
  // Open: users is not even asked, so no timeout is waited for.
  auto t0 = std::chrono::steady_clock::now();
  auto fast = placed(shop.place("alice", {{"A", 1}}));
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(fast.second == "fallback");
  CHECK(took < 300ms);
  orders.push_back(fast.first);
  std::printf("order with the users breaker open: %.1f ms\n",
              std::chrono::duration<double, std::milli>(took).count());
  c.node("people").process().signal(SIGCONT);

  auto problems = shop_invariants(shop, {{"A", 10}}, orders, c.data_dir() + "/stock/payments.db");
  for (auto& p : problems) FAIL_CHECK(p);
  c.stop_all();
}
