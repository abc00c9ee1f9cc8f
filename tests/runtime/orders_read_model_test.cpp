// The orders read model's storage: what a page of events leaves in it, and a read model
// written by an older binary brought up to date.
#include <catch2/catch.hpp>

#include "actors/orders/orders_read_model.hpp"
#include "runtime/events/inbox.hpp"
#include "tests/support/process.hpp"

using namespace troupe;
using namespace troupe::test;

namespace {

events::event_envelope event(std::int64_t offset, std::string type, std::int64_t seq,
                             std::string payload) {
  events::event_envelope e;
  e.id = "e" + std::to_string(offset);
  e.type = std::move(type);
  e.source = "orders";
  e.aggregate_id = "o-1";
  e.aggregate_seq = seq;
  e.time_ms = 1000 * offset;
  e.offset = offset;
  e.payload = std::move(payload);
  return e;
}

}  // namespace

TEST_CASE("the read model keeps why an order was cancelled") {
  temp_dir dir;
  sqlite::database db{dir.file("read.db")};
  orders::migrate_read_model(db);
  sqlite::transaction tx{db};
  orders::apply_page_to_read_model(
      db, orders::read_model_subscription,
      {event(1, "OrderCreated", 1, R"({"customer": "u-1"})"),
       event(2, "OrderCancelled", 2, R"({"code": "out_of_stock", "reason": "'A': 5 left"})")});
  tx.commit();
  auto view = orders::read_order(db, "o-1");
  REQUIRE(view);
  CHECK(view->status == "cancelled");
  CHECK(view->cancel_code == "out_of_stock");
  CHECK(view->cancel_reason == "'A': 5 left");
  auto page = orders::read_customer_orders(db, "u-1", 10, "");
  REQUIRE(page.orders.size() == 1);
  CHECK(page.orders[0].cancel_code == "out_of_stock");
}

TEST_CASE("a read model an older binary wrote starts again from the event history") {
  temp_dir dir;
  sqlite::database db{dir.file("read.db")};
  // As the binary before the cancellation columns left it: schema version 1, rows without
  // code and reason, and the subscription's offset past them.
  events::migrate_inbox(db);
  db.migrate({
      "CREATE TABLE orders_view("
      "  id TEXT PRIMARY KEY, customer TEXT NOT NULL, status TEXT NOT NULL,"
      "  items TEXT NOT NULL, total INTEGER NOT NULL, currency TEXT NOT NULL,"
      "  payment TEXT NOT NULL, version INTEGER NOT NULL, created_at_ms INTEGER NOT NULL,"
      "  updated_at_ms INTEGER NOT NULL);"
      "CREATE INDEX orders_by_customer ON orders_view(customer, created_at_ms, id);"
      "CREATE TABLE status_counts(status TEXT PRIMARY KEY, count INTEGER NOT NULL);"
      "CREATE TABLE revenue(currency TEXT PRIMARY KEY, amount INTEGER NOT NULL)",
  });
  db.exec(
      "INSERT INTO orders_view VALUES ('o-1', 'u-1', 'cancelled', '[]', 0, '', '', 2, 1000, "
      "2000); INSERT INTO status_counts VALUES ('cancelled', 1)");
  {
    sqlite::transaction tx{db};
    events::apply_once(db, orders::read_model_subscription,
                       event(2, "OrderCancelled", 2, R"({"code": "x", "reason": "y"})"),
                       [](const events::event_envelope&) {});
    tx.commit();
  }
  REQUIRE(events::inbox_offset(db, orders::read_model_subscription) == 2);

  orders::migrate_read_model(db);
  CHECK(events::inbox_offset(db, orders::read_model_subscription) == 0);
  CHECK_FALSE(orders::read_order(db, "o-1"));
  CHECK(orders::read_stats(db).by_status.empty());
  // Replayed from the start, the same events now leave the code and reason.
  sqlite::transaction tx{db};
  orders::apply_page_to_read_model(
      db, orders::read_model_subscription,
      {event(1, "OrderCreated", 1, R"({"customer": "u-1"})"),
       event(2, "OrderCancelled", 2, R"({"code": "out_of_stock", "reason": "gone"})")});
  tx.commit();
  CHECK(orders::read_order(db, "o-1")->cancel_code == "out_of_stock");
}
