// The shop through HTTP, in dev mode (one node) and in the three-node topology (gateway |
// users + orders | inventory + payments): the same scenario, the same answers, and the same
// invariants on stock and money afterwards.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "tests/support/cluster.hpp"
#include "tests/support/shop.hpp"

using namespace troupe::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string processor =
    R"("payments": {"decline_over": 100000, "decline_customers": ["u-bad"]})";

// Where a node of `plan` keeps its payments file.
std::string payments_db(cluster& c, bool three_nodes) {
  return c.data_dir() + (three_nodes ? "/stock" : "/dev") + "/payments.db";
}

std::vector<std::string> history_types(const json& order) {
  std::vector<std::string> out;
  for (auto& e : order["history"]) out.push_back(e["type"].get<std::string>());
  return out;
}

void scenario(cluster& c, bool three_nodes) {
  shop_client shop{c.http()};
  REQUIRE(shop.create_user("u-1", "Ann").status == 201);
  REQUIRE(shop.create_user("u-bad", "Mallory").status == 201);  // declined by the processor
  std::map<std::string, long> initial{{"A", 10}, {"B", 5}, {"C", 3}, {"D", 100}};
  REQUIRE(shop.set_stock("A", 10, 1500).status == 200);
  REQUIRE(shop.set_stock("B", 5, 250).status == 200);
  REQUIRE(shop.set_stock("C", 3, 100, "USD").status == 200);
  REQUIRE(shop.set_stock("D", 100, 5000).status == 200);
  std::vector<std::string> orders;

  // Happy path: priced by inventory, paid, confirmed; its history in order.
  auto ok = shop.place("u-1", {{"A", 2}, {"B", 1}});
  REQUIRE(ok.status == 201);
  auto placed = json::parse(ok.body);
  CHECK(placed["status"] == "confirmed");
  CHECK(placed["total"] == 2 * 1500 + 250);
  CHECK(placed["currency"] == "EUR");
  CHECK(placed["items"][0]["price"] == 1500);
  CHECK(ok.headers["location"] == "/api/orders/" + placed["id"].get<std::string>());
  orders.push_back(placed["id"]);
  auto stored = shop.order(placed["id"]);
  CHECK(stored["status"] == "confirmed");
  CHECK(history_types(stored) == std::vector<std::string>{"OrderCreated", "ItemAdded", "ItemAdded",
                                                          "StockReserved", "PaymentCharged",
                                                          "OrderConfirmed"});
  CHECK(shop.payment(placed["payment"])["status"] == "charged");
  CHECK(shop.stock("A")["quantity"] == 8);

  // Out of stock: created, then cancelled; the answer names the order and the item.
  auto none = shop.place("u-1", {{"B", 1}, {"A", 100}});
  REQUIRE(none.status == 409);
  auto refused = json::parse(none.body);
  CHECK(refused["error"]["code"] == "out_of_stock");
  CHECK(refused["error"]["field"] == "items[1].quantity");
  REQUIRE(refused.contains("order_id"));
  orders.push_back(refused["order_id"]);
  auto cancelled = shop.order(refused["order_id"]);
  CHECK(cancelled["status"] == "cancelled");
  CHECK(history_types(cancelled).back() == "OrderCancelled");
  CHECK(cancelled["cancellation"]["code"] == "out_of_stock");
  CHECK(shop.stock("B")["quantity"] == 4);  // B was not held back by the refused order

  // Declined by the processor: by customer and by amount; stock released.
  for (auto [customer, sku, n] : {std::tuple{"u-bad", "A", 1}, std::tuple{"u-1", "D", 30}}) {
    auto declined = shop.place(customer, {{sku, n}});
    REQUIRE(declined.status == 402);
    auto body = json::parse(declined.body);
    CHECK(body["error"]["code"] == "payment_declined");
    orders.push_back(body["order_id"]);
    CHECK(shop.order(body["order_id"])["status"] == "cancelled");
  }
  CHECK(shop.stock("D")["quantity"] == 100);

  // Unknown customer: refused before any order exists.
  auto stranger = shop.place("u-nobody", {{"A", 1}});
  CHECK(stranger.status == 404);
  CHECK(json::parse(stranger.body)["error"]["code"] == "unknown_customer");
  CHECK_FALSE(json::parse(stranger.body).contains("order_id"));

  // Bad items: refused at the door, or by inventory (unknown SKU, mixed currencies).
  CHECK(shop.place("u-1", {}).status == 400);
  CHECK(shop.place("u-1", {{"A", 0}}).status == 400);
  CHECK(shop.place("u-1", {{"A", 1}, {"A", 1}}).status == 400);
  auto unknown_sku = shop.place("u-1", {{"NOPE", 1}});
  CHECK(unknown_sku.status == 400);
  orders.push_back(json::parse(unknown_sku.body)["order_id"]);
  auto mixed = shop.place("u-1", {{"A", 1}, {"C", 1}});
  CHECK(mixed.status == 400);
  orders.push_back(json::parse(mixed.body)["order_id"]);
  auto malformed =
      shop.http().post_json("/api/orders", R"({"customer": "u-1", "items": [{"sku": 1}]})");
  CHECK(malformed.status == 400);
  CHECK(json::parse(malformed.body)["error"]["field"] == "items[0].sku");

  // Idempotency-Key: a retried POST gets the first answer, with one effect.
  auto first = shop.place("u-1", {{"B", 2}}, "key-1");
  auto again = shop.place("u-1", {{"B", 2}}, "key-1");
  REQUIRE(first.status == 201);
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  orders.push_back(json::parse(first.body)["id"]);
  CHECK(shop.stock("B")["quantity"] == 2);  // 5 - 1 - 2: charged and reserved once
  auto other = shop.place("u-1", {{"B", 1}}, "key-1");
  CHECK(other.status == 422);
  CHECK(json::parse(other.body)["error"]["code"] == "idempotency_key_reused");

  // A cancelled order takes no more items.
  auto add =
      shop.http().post_json("/api/orders/" + refused["order_id"].get<std::string>() + "/items",
                            R"({"sku": "A", "quantity": 1})");
  CHECK(add.status == 409);
  CHECK(json::parse(add.body)["error"]["code"] == "conflict");

  // The read model follows: orders by customer, paginated, and statistics.
  std::size_t mine = 0;
  for (auto& id : orders) mine += shop.order(id)["customer"] == "u-1";
  REQUIRE(eventually([&] { return shop.orders_of("u-1")["orders"].size() == mine; }, 10s));
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = shop.orders_of("u-1", 2, cursor);
    for (auto& o : page["orders"]) CHECK(seen.insert(o["id"].get<std::string>()).second);
    cursor = page["next"].is_null() ? "" : page["next"].get<std::string>();
    ++pages;
  } while (!cursor.empty() && pages < 20);
  CHECK(seen.size() == mine);
  // The list says why an order was cancelled, as the order itself does.
  bool listed_cancelled = false;
  auto listed = shop.orders_of("u-1", 100, "");
  for (auto& o : listed["orders"])
    if (o["id"] == refused["order_id"]) {
      listed_cancelled = true;
      CHECK(o["cancellation"] == cancelled["cancellation"]);
      CHECK(o["cancellation"]["code"] == "out_of_stock");
      CHECK_FALSE(o["cancellation"]["reason"].get<std::string>().empty());
    }
  CHECK(listed_cancelled);
  CHECK(pages == static_cast<int>((mine + 1) / 2));
  CHECK(shop.http().get("/api/orders?customer=u-1&after=bogus").status == 400);
  CHECK(shop.http().get("/api/orders?customer=u-1&limit=0").status == 400);
  CHECK(shop.http().get("/api/orders").status == 400);
  REQUIRE(eventually(
      [&] {
        auto s = shop.stats();
        return s["by_status"].value("confirmed", 0) == 2 &&
               s["by_status"].value("cancelled", 0) == 5;
      },
      10s));
  CHECK(shop.stats()["revenue"]["EUR"] == 3250 + 500);

  auto problems = shop_invariants(shop, initial, orders, payments_db(c, three_nodes));
  for (auto& p : problems) INFO(p);
  CHECK(problems.empty());
}

}  // namespace

TEST_CASE("the shop in dev mode: placed, refused, declined, replayed; stock and money agree") {
  temp_dir dir;
  cluster c{dir, one_node_plan(), processor};
  scenario(c, false);
}

TEST_CASE("the shop on three nodes gives the same answers") {
  temp_dir dir;
  cluster c{dir, three_node_plan(), processor};
  scenario(c, true);
  // The sagas are visible on the node that owns them.
  http_client admin{c.node("shop").admin()};
  auto sagas = json::parse(admin.get("/sagas?state=done&limit=100").body)["sagas"];
  CHECK(sagas.size() == 8);  // every POST that reached the saga, the unknown customer too
  CHECK(admin.get("/sagas?state=running").body == R"({"sagas":[]})");
}

TEST_CASE("a participant that hangs: the saga gives up on it, compensates, and all agrees") {
  temp_dir dir;
  // Two charges hang 1.5 s each in the payments store; steps time out after 300 ms.
  cluster c{dir,
            three_node_plan(),
            R"("orders": {"step_timeout_ms": 300, "step_attempts": 2})",
            {{"stock", {{"TROUPE_FAILPOINTS=payments.charge=hang:1500*2"}, {}}}}};
  shop_client shop{c.http()};
  REQUIRE(shop.create_user("u-1", "Ann").status == 201);
  REQUIRE(shop.set_stock("A", 10, 1500).status == 200);
  auto started = std::chrono::steady_clock::now();
  auto r = shop.place("u-1", {{"A", 3}});
  auto took = std::chrono::steady_clock::now() - started;
  INFO(r.body);
  REQUIRE(r.status == 503);  // the charge's outcome was unknown: nothing of the order remains
  auto body = json::parse(r.body);
  CHECK(body["error"]["code"] == "unavailable");
  REQUIRE(body.contains("order_id"));
  CHECK(took < 5s);
  CHECK(shop.order(body["order_id"])["status"] == "cancelled");
  auto problems = shop_invariants(shop, {{"A", 10}}, {body["order_id"]}, payments_db(c, true));
  for (auto& p : problems) INFO(p);
  CHECK(problems.empty());
}

TEST_CASE("many clients ordering the last units of one SKU never oversell") {
  temp_dir dir;
  cluster c{dir, three_node_plan()};
  shop_client setup{c.http()};
  REQUIRE(setup.create_user("u-1", "Ann").status == 201);
  REQUIRE(setup.set_stock("LAST", 5, 100).status == 200);
  constexpr int clients = 16;
  std::atomic<int> confirmed{0}, out_of_stock{0}, other{0};
  std::vector<std::string> ids[clients];
  std::vector<std::string> unexpected[clients];
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      shop_client shop{c.http()};
      for (int k = 0; k < 2; ++k) {
        auto r = shop.place("u-1", {{"LAST", 1}});
        auto body = json::parse(r.body);
        if (r.status == 201) {
          ++confirmed;
          ids[i].push_back(body["id"]);
        } else if (r.status == 409 && body["error"]["code"] == "out_of_stock") {
          ++out_of_stock;
          ids[i].push_back(body["order_id"]);
        } else {
          ++other;
          unexpected[i].push_back(std::to_string(r.status) + " " + r.body);
        }
      }
    });
  for (auto& t : threads) t.join();
  for (auto& list : unexpected)
    for (auto& answer : list) UNSCOPED_INFO(answer);
  if (other > 0) UNSCOPED_INFO("stock's stderr:\n" << c.stderr_of("stock"));
  CHECK(confirmed == 5);
  CHECK(out_of_stock == clients * 2 - 5);
  CHECK(other == 0);
  CHECK(setup.stock("LAST")["quantity"] == 0);
  std::vector<std::string> all;
  for (auto& list : ids) all.insert(all.end(), list.begin(), list.end());
  auto problems = shop_invariants(setup, {{"LAST", 5}}, all, payments_db(c, true));
  for (auto& p : problems) INFO(p);
  CHECK(problems.empty());
}
