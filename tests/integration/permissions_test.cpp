// Service permissions (the topology's "permissions"): on the three-node shop the callee
// refuses operations its callers may not call, with a clear 403 and a line in its log, and a
// saga step refused that way ends the order with that error instead of charging.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/shop.hpp"

using namespace troupe::test;
using json = nlohmann::json;

TEST_CASE("callees refuse the calls the topology does not permit, and say so") {
  temp_dir dir;
  // Orders may not charge; the gateway may set stock but not read it.
  std::string permissions = R"("permissions": {
      "users": {"gateway": ["*"], "orders": ["get_user"]},
      "inventory": {"gateway": ["set_stock"],
                    "orders": ["reserve_stock", "release_reservation", "commit_reservation"]},
      "payments": {"gateway": ["get_payment"], "orders": ["refund_payment"]},
      "orders": {"gateway": ["*"]}})";
  cluster c{dir, three_node_plan(), {}, {}, permissions};
  shop_client shop{c.http()};
  REQUIRE(shop.create_user("u-1", "Ann").status == 201);
  REQUIRE(shop.set_stock("A", 10, 1500).status == 200);

  auto read = shop.http().get("/api/inventory/A");
  INFO(read.body);
  CHECK(read.status == 403);
  auto error = json::parse(read.body)["error"];
  CHECK(error["code"] == "forbidden");
  CHECK(error["message"] ==
        "'gateway' may not call inventory.get_stock (the topology's permissions)");

  // The saga reserves (allowed), is refused the charge, and compensates: nothing is charged,
  // the order ends cancelled with the refusal.
  auto placed = shop.place("u-1", {{"A", 2}});
  INFO(placed.body);
  CHECK(placed.status == 403);
  auto body = json::parse(placed.body);
  CHECK(body["error"]["code"] == "forbidden");
  CHECK(body["error"]["message"].get<std::string>().find("payments.charge_payment") !=
        std::string::npos);
  REQUIRE(body.contains("order_id"));
  CHECK(shop.order(body["order_id"].get<std::string>())["status"] == "cancelled");
  // The callee logged it.
  CHECK(c.stderr_of("stock").find("refused: 'orders' may not call payments.charge_payment") !=
        std::string::npos);
  // What is allowed still works: users reads for orders' customer check, the gateway's own.
  CHECK(shop.http().get("/api/users/u-1").status == 200);
}
