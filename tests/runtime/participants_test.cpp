// Saga participants on a real actor system with their real SQLite files: every step and
// every compensation, delivered twice, retried, concurrently duplicated or reordered (the
// compensation first), takes one effect and answers the first answer again.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "actors/inventory/inventory_protocol.hpp"
#include "actors/orders/orders_protocol.hpp"
#include "actors/payments/payments_protocol.hpp"
#include "actors/shop/shop.hpp"
#include "actors/users/users_protocol.hpp"
#include "runtime/core/error.hpp"
#include "runtime/events/subscription.hpp"
#include "runtime/node/node.hpp"
#include "runtime/storage/sqlite.hpp"
#include "tests/support/process.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

std::vector<capability> shop_capabilities() {
  return shop::capabilities();
}

class config : public caf::actor_system_config {
 public:
  config() { configure_node_system(*this, shop_capabilities(), 2); }
};

call_context keyed(const std::string& key) {
  call_context ctx;
  ctx.idempotency_key = key;
  return ctx;
}

template <class Reply, class Message>
caf::expected<Reply> ask(caf::scoped_actor& self, const caf::actor& to, Message msg) {
  caf::expected<Reply> out{caf::error{}};
  self->request(to, 10s, std::move(msg))
      .receive([&](Reply& r) { out = std::move(r); }, [&](caf::error& e) { out = std::move(e); });
  return out;
}

// How many events of `type` the file's outbox holds: one per effect.
std::int64_t effects(const std::string& db_path, const std::string& type) {
  sqlite::database db{db_path, sqlite::durability::full, sqlite::access::read_only};
  auto& q = db.prepare("SELECT COUNT(*) FROM outbox WHERE type = ?1");
  q.bind(1, type);
  q.step();
  return q.int64(0);
}

std::string code_of(const caf::error& e) {
  return describe(e).name;
}

}  // namespace

TEST_CASE("inventory: reserve, release and commit take one effect each, in any delivery") {
  test::temp_dir dir;
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto path = dir.file("inventory.db");
  auto inv = caf::actor_cast<caf::actor>(inventory::spawn_inventory(sys, {path, true, {}}));
  REQUIRE(
      ask<inventory::stock_item>(self, inv, inventory::set_stock{{}, {"A", 10, 0, 100, "EUR"}}));
  auto stock = [&] {
    return *ask<inventory::stock_item>(self, inv, inventory::get_stock{{}, "A"});
  };
  std::vector<inventory::line> two{{"A", 2, 0}};

  // Duplicated and retried: the same reservation, held once.
  auto r1 =
      ask<inventory::reservation>(self, inv, inventory::reserve_stock{keyed("s1:reserve"), two});
  auto r2 =
      ask<inventory::reservation>(self, inv, inventory::reserve_stock{keyed("s1:reserve"), two});
  REQUIRE(r1);
  REQUIRE(r2);
  CHECK(r1->id == r2->id);
  CHECK(stock().quantity == 8);
  CHECK(stock().reserved == 2);

  // Concurrent duplicates (sent before either is answered): still one effect.
  auto a = self->request(inv, 10s, inventory::reserve_stock{keyed("s2:reserve"), two});
  auto b = self->request(inv, 10s, inventory::reserve_stock{keyed("s2:reserve"), two});
  std::string ida, idb;
  a.receive([&](inventory::reservation& r) { ida = r.id; }, [](caf::error&) { FAIL("a"); });
  b.receive([&](inventory::reservation& r) { idb = r.id; }, [](caf::error&) { FAIL("b"); });
  CHECK(ida == idb);
  CHECK(stock().quantity == 6);
  CHECK(effects(path, "StockReserved") == 2);

  // Release twice: the units come back once.
  auto rel1 =
      ask<inventory::reservation>(self, inv, inventory::release_reservation{keyed("s2:reserve")});
  auto rel2 =
      ask<inventory::reservation>(self, inv, inventory::release_reservation{keyed("s2:reserve")});
  CHECK(rel1->state == "released");
  CHECK(rel2->state == "released");
  CHECK(stock().quantity == 8);
  CHECK(effects(path, "ReservationReleased") == 1);

  // Commit twice: sold once.
  auto c1 = ask<inventory::reservation>(self, inv,
                                        inventory::commit_reservation{keyed("s1:commit"), r1->id});
  auto c2 = ask<inventory::reservation>(self, inv,
                                        inventory::commit_reservation{keyed("s1:commit"), r1->id});
  CHECK(c1->state == "committed");
  CHECK(c2->state == "committed");
  CHECK(stock().reserved == 0);
  CHECK(stock().quantity == 8);
  CHECK(effects(path, "ReservationCommitted") == 1);

  // Reordered: the release overtakes its reserve; the late reserve does nothing.
  auto early =
      ask<inventory::reservation>(self, inv, inventory::release_reservation{keyed("s3:reserve")});
  CHECK(early->state == "none");
  auto late =
      ask<inventory::reservation>(self, inv, inventory::reserve_stock{keyed("s3:reserve"), two});
  REQUIRE_FALSE(late);
  CHECK(code_of(late.error()) == "compensated");
  CHECK(stock().quantity == 8);

  // A refusal is an answer too: repeated, it is the same refusal, and nothing is held.
  std::vector<inventory::line> too_many{{"A", 99, 0}};
  auto no1 = ask<inventory::reservation>(self, inv,
                                         inventory::reserve_stock{keyed("s4:reserve"), too_many});
  REQUIRE(inventory::set_stock{{}, {"A", 500, 0, 100, "EUR"}}.item.quantity == 500);
  REQUIRE(
      ask<inventory::stock_item>(self, inv, inventory::set_stock{{}, {"A", 500, 0, 100, "EUR"}}));
  auto no2 = ask<inventory::reservation>(self, inv,
                                         inventory::reserve_stock{keyed("s4:reserve"), too_many});
  REQUIRE_FALSE(no1);
  REQUIRE_FALSE(no2);  // the first answer, although there is stock now
  CHECK(code_of(no2.error()) == "out_of_stock");
  auto undo =
      ask<inventory::reservation>(self, inv, inventory::release_reservation{keyed("s4:reserve")});
  CHECK(undo->state == "none");
  CHECK(stock().quantity == 500);
  // Steps without a key are refused: a saga step must be repeatable.
  auto keyless = ask<inventory::reservation>(self, inv, inventory::reserve_stock{{}, two});
  REQUIRE_FALSE(keyless);
  CHECK(code_of(keyless.error()) == "invalid_argument");
  self->send_exit(inv, caf::exit_reason::user_shutdown);
}

TEST_CASE("payments: a charge and its refund take one effect each, in any delivery") {
  test::temp_dir dir;
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto path = dir.file("payments.db");
  payments::payments_settings rules;
  rules.decline_customers = {"u-bad"};
  auto pay = caf::actor_cast<caf::actor>(payments::spawn_payments(sys, {path, rules, true, {}}));

  auto c1 = ask<payments::charge>(self, pay,
                                  payments::charge_payment{keyed("s1:charge"), "u-1", 500, "EUR"});
  auto c2 = ask<payments::charge>(self, pay,
                                  payments::charge_payment{keyed("s1:charge"), "u-1", 500, "EUR"});
  REQUIRE(c1);
  REQUIRE(c2);
  CHECK(c1->id == c2->id);
  CHECK(effects(path, "PaymentCharged") == 1);

  auto r1 = ask<payments::charge>(self, pay, payments::refund_payment{keyed("s1:charge")});
  auto r2 = ask<payments::charge>(self, pay, payments::refund_payment{keyed("s1:charge")});
  CHECK(r1->status == "refunded");
  CHECK(r2->status == "refunded");
  CHECK(effects(path, "PaymentRefunded") == 1);
  CHECK(ask<payments::charge>(self, pay, payments::get_payment{{}, c1->id})->status == "refunded");

  // The refund overtakes its charge: the late charge takes no money.
  auto early = ask<payments::charge>(self, pay, payments::refund_payment{keyed("s2:charge")});
  CHECK(early->status == "none");
  auto late = ask<payments::charge>(
      self, pay, payments::charge_payment{keyed("s2:charge"), "u-1", 700, "EUR"});
  REQUIRE_FALSE(late);
  CHECK(code_of(late.error()) == "compensated");
  CHECK(effects(path, "PaymentCharged") == 1);

  // Declined, twice: the same decline, no charge.
  auto d1 = ask<payments::charge>(self, pay,
                                  payments::charge_payment{keyed("s3:charge"), "u-bad", 10, "EUR"});
  auto d2 = ask<payments::charge>(self, pay,
                                  payments::charge_payment{keyed("s3:charge"), "u-bad", 10, "EUR"});
  REQUIRE_FALSE(d1);
  REQUIRE_FALSE(d2);
  CHECK(code_of(d2.error()) == "payment_declined");
  CHECK(ask<payments::charge>(self, pay, payments::refund_payment{keyed("s3:charge")})->status ==
        "none");
  CHECK(effects(path, "PaymentCharged") == 1);
  self->send_exit(pay, caf::exit_reason::user_shutdown);
}

TEST_CASE("orders: create, confirm and cancel take one effect each, in any delivery") {
  test::temp_dir dir;
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto cap = orders::orders_capability();
  capability_context ctx;
  ctx.system = &sys;
  ctx.name = "orders";
  ctx.node = "test";
  ctx.database_path = dir.file("orders.db");
  ctx.settings = orders::orders_settings{};
  ctx.view = std::make_shared<directory_view>(
      std::vector<std::string>{"orders", "users", "inventory", "payments"}, 100);
  ctx.gates = std::make_shared<readiness_gates>();
  auto ord = cap.spawn(ctx);
  auto path = ctx.database_path;
  std::vector<orders::line> items{{"A", 2, 0}};

  auto o1 = ask<orders::order_view>(
      self, ord, orders::create_order{keyed("s1:create"), "o-0000000000000001", "u-1", items});
  auto o2 = ask<orders::order_view>(
      self, ord, orders::create_order{keyed("s1:create"), "o-0000000000000001", "u-1", items});
  REQUIRE(o1);
  REQUIRE(o2);
  CHECK(o2->version == o1->version);
  CHECK(effects(path, "OrderCreated") == 1);

  orders::confirm_order confirm{
      keyed("s1:confirm"), "o-0000000000000001", "r-1", {{"A", 2, 100}}, 200, "EUR", "c-1", 200};
  REQUIRE(ask<orders::order_view>(self, ord, confirm));
  auto again = ask<orders::order_view>(self, ord, confirm);
  REQUIRE(again);
  CHECK(again->status == "confirmed");
  CHECK(effects(path, "OrderConfirmed") == 1);
  CHECK(effects(path, "StockReserved") == 1);

  // A cancel that overtakes its create: the late create does nothing.
  auto early = ask<orders::order_view>(
      self, ord, orders::cancel_order{keyed("s2:create"), "o-0000000000000002", "x", "y"});
  CHECK(early->status.empty());
  auto late = ask<orders::order_view>(
      self, ord, orders::create_order{keyed("s2:create"), "o-0000000000000002", "u-1", items});
  REQUIRE_FALSE(late);
  CHECK(code_of(late.error()) == "compensated");
  CHECK(effects(path, "OrderCreated") == 1);

  // Cancel twice after a create: one OrderCancelled.
  REQUIRE(ask<orders::order_view>(
      self, ord, orders::create_order{keyed("s3:create"), "o-0000000000000003", "u-1", items}));
  auto k1 = ask<orders::order_view>(
      self, ord,
      orders::cancel_order{keyed("s3:create"), "o-0000000000000003", "out_of_stock", "none left"});
  auto k2 = ask<orders::order_view>(
      self, ord,
      orders::cancel_order{keyed("s3:create"), "o-0000000000000003", "out_of_stock", "none left"});
  CHECK(k1->status == "cancelled");
  CHECK(k2->status == "cancelled");
  CHECK(effects(path, "OrderCancelled") == 1);
  self->send_exit(ord, caf::exit_reason::user_shutdown);
}
