#include <catch2/catch.hpp>

#include "domain/inventory/inventory_rules.hpp"

using namespace troupe::domain::inventory;

TEST_CASE("stock updates need a valid SKU, quantity, price and currency") {
  CHECK_FALSE(check_stock({"A-1", 10, 0, 1500, "EUR"}));
  CHECK(check_stock({"", 10, 0, 1500, "EUR"})->field == "sku");
  CHECK(check_stock({"a/b", 10, 0, 1500, "EUR"})->field == "sku");
  CHECK(check_stock({std::string(65, 'x'), 1, 0, 1, "EUR"})->field == "sku");
  CHECK(check_stock({"A", -1, 0, 1500, "EUR"})->field == "quantity");
  CHECK(check_stock({"A", max_quantity + 1, 0, 1, "EUR"})->field == "quantity");
  CHECK(check_stock({"A", 1, 0, -5, "EUR"})->field == "price");
  CHECK(check_stock({"A", 1, 0, 5, "eur"})->field == "currency");
  CHECK(check_stock({"A", 1, 0, 5, "EURO"})->field == "currency");
}

TEST_CASE("order lines: at least one, each SKU once, sane quantities, fields named") {
  CHECK(check_lines({})->field == "items");
  CHECK_FALSE(check_lines({{"A", 1}, {"B", 2}}));
  auto dup = check_lines({{"A", 1}, {"A", 2}});
  REQUIRE(dup);
  CHECK(dup->field == "items[1].sku");
  CHECK(check_lines({{"A", 0}})->field == "items[0].quantity");
  CHECK(check_lines({{"A", max_line_quantity + 1}})->field == "items[0].quantity");
  CHECK(check_lines({{"A", 1}, {"b c", 1}})->field == "items[1].sku");
  CHECK(check_lines(std::vector<line>(max_lines + 1, line{"A", 1}))->field == "items");
}

TEST_CASE("a reservation is all or nothing and prices the lines") {
  std::vector<line> want{{"A", 2}, {"B", 1}};
  stock_item a{"A", 5, 0, 1500, "EUR"}, b{"B", 1, 0, 250, "EUR"};
  auto plan = plan_reservation(want, {a, b});
  REQUIRE(std::holds_alternative<reservation_plan>(plan));
  auto& p = std::get<reservation_plan>(plan);
  CHECK(p.total == 2 * 1500 + 250);
  CHECK(p.currency == "EUR");
  CHECK(p.lines[0].price == 1500);

  b.quantity = 0;
  auto short_b = plan_reservation(want, {a, b});
  REQUIRE(std::holds_alternative<refusal>(short_b));
  CHECK(std::get<refusal>(short_b).why == refusal::kind::out_of_stock);
  CHECK(std::get<refusal>(short_b).sku == "B");

  auto unknown = plan_reservation(want, {a, std::nullopt});
  CHECK(std::get<refusal>(unknown).why == refusal::kind::unknown_sku);

  stock_item usd{"B", 9, 0, 100, "USD"};
  auto mixed = plan_reservation(want, {a, usd});
  CHECK(std::get<refusal>(mixed).why == refusal::kind::mixed_currencies);
}

TEST_CASE("reserve, release and commit move units without creating or losing any") {
  stock_item s{"A", 10, 0, 100, "EUR"};
  reserve(s, 3);
  CHECK(s.quantity == 7);
  CHECK(s.reserved == 3);
  release(s, 1);
  CHECK(s.quantity == 8);
  CHECK(s.reserved == 2);
  commit(s, 2);
  CHECK(s.quantity == 8);
  CHECK(s.reserved == 0);
  // Setting stock keeps what reservations hold.
  reserve(s, 5);
  set_stock(s, {"A", 20, 0, 90, "EUR"});
  CHECK(s.quantity == 20);
  CHECK(s.reserved == 5);
  CHECK(s.price == 90);
}
