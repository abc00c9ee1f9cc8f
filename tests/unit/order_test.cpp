#include <catch2/catch.hpp>

#include "domain/orders/order.hpp"

using namespace troupe::domain::orders;

namespace {

// Applies a decision's events, failing the test on a rejection.
void run(order& o, const decision& d, std::int64_t time = 1) {
  REQUIRE(std::holds_alternative<std::vector<event>>(d));
  for (auto& e : std::get<std::vector<event>>(d)) apply(o, e, time);
}

bool rejected_as(const decision& d, rejection::kind k) {
  return std::holds_alternative<rejection>(d) && std::get<rejection>(d).why == k;
}

stock_reserved reservation_for(const order& o) {
  stock_reserved r{"r-1", o.items, 0, "EUR"};
  for (auto& l : r.lines) {
    l.price = 100;
    r.total += l.quantity * 100;
  }
  return r;
}

}  // namespace

TEST_CASE("an order's state is rebuilt from its events, in order") {
  order o;
  o.id = "o-1";
  run(o, create(o, "u-1", {{"A", 2}, {"B", 1}}), 10);
  CHECK(o.state == status::pending);
  CHECK(o.items.size() == 2);
  CHECK(o.version == 3);  // OrderCreated + 2 x ItemAdded
  run(o, record_reservation(o, reservation_for(o)), 11);
  run(o, record_payment(o, {"c-1", 300}), 12);
  run(o, confirm(o), 13);
  CHECK(o.state == status::confirmed);
  CHECK(o.total == 300);
  CHECK(o.payment == "c-1");
  CHECK(o.created_at_ms == 10);
  CHECK(o.updated_at_ms == 13);

  // The same events applied to a fresh order give the same state.
  order replay;
  replay.id = "o-1";
  std::vector<event> history{order_created{"u-1"}, item_added{"A", 2},          item_added{"B", 1},
                             reservation_for(o),   payment_charged{"c-1", 300}, order_confirmed{}};
  for (auto& e : history) apply(replay, e, 13);
  CHECK(replay.state == o.state);
  CHECK(replay.total == o.total);
  CHECK(replay.version == o.version);
  CHECK(std::string(event_type(history[3])) == "StockReserved");
}

TEST_CASE("commands that do not fit the state are rejected") {
  order o;
  o.id = "o-2";
  CHECK(rejected_as(confirm(o), rejection::kind::conflict));
  CHECK(rejected_as(create(o, "", {{"A", 1}}), rejection::kind::invalid));
  CHECK(rejected_as(create(o, "u-1", {}), rejection::kind::invalid));
  run(o, create(o, "u-1", {{"A", 1}}));
  CHECK(rejected_as(create(o, "u-1", {{"A", 1}}), rejection::kind::conflict));
  // Confirming before stock and payment is refused.
  CHECK(rejected_as(confirm(o), rejection::kind::conflict));
  CHECK(rejected_as(record_payment(o, {"c-1", 100}), rejection::kind::conflict));
  run(o, add_item(o, {"B", 2, 0}));
  CHECK(o.items.size() == 2);
  // A payment that does not match the total is refused.
  run(o, record_reservation(o, reservation_for(o)));
  CHECK(rejected_as(add_item(o, {"C", 1, 0}), rejection::kind::conflict));
  CHECK(rejected_as(record_payment(o, {"c-1", 1}), rejection::kind::invalid));
  run(o, cancel(o, "payment_declined", "declined"));
  CHECK(o.state == status::cancelled);
  // Adding an item to a cancelled order is refused; cancelling again changes nothing.
  auto add = add_item(o, {"C", 1, 0});
  REQUIRE(rejected_as(add, rejection::kind::conflict));
  CHECK(std::get<rejection>(add).message.find("cancelled") != std::string::npos);
  CHECK(std::get<std::vector<event>>(cancel(o, "x", "y")).empty());
  CHECK(rejected_as(confirm(o), rejection::kind::conflict));
}

TEST_CASE("recording the same reservation, payment or confirmation twice adds nothing") {
  order o;
  o.id = "o-3";
  run(o, create(o, "u-1", {{"A", 1}}));
  auto r = reservation_for(o);
  run(o, record_reservation(o, r));
  CHECK(std::get<std::vector<event>>(record_reservation(o, r)).empty());
  auto other = r;
  other.reservation = "r-2";
  CHECK(rejected_as(record_reservation(o, other), rejection::kind::conflict));
  run(o, record_payment(o, {"c-1", 100}));
  CHECK(std::get<std::vector<event>>(record_payment(o, {"c-1", 100})).empty());
  run(o, confirm(o));
  CHECK(std::get<std::vector<event>>(confirm(o)).empty());
  CHECK(rejected_as(cancel(o, "x", "y"), rejection::kind::conflict));
}

TEST_CASE("order ids are o- and 16 hex digits") {
  auto id = make_order_id(0xabcdefULL);
  CHECK(id == "o-0000000000abcdef");
  CHECK(valid_order_id(id));
  CHECK_FALSE(valid_order_id("o-xyz"));
  CHECK_FALSE(valid_order_id("../etc"));
}
