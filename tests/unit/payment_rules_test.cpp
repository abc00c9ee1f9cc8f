#include <catch2/catch.hpp>

#include "domain/payments/payment_rules.hpp"

using namespace troupe::domain::payments;

TEST_CASE("a charge needs a customer, a positive amount and a currency code") {
  CHECK_FALSE(check_charge("u-1", 100, "EUR"));
  CHECK(check_charge("", 100, "EUR")->field == "customer");
  CHECK(check_charge("u-1", 0, "EUR")->field == "amount");
  CHECK(check_charge("u-1", -3, "EUR")->field == "amount");
  CHECK(check_charge("u-1", max_amount + 1, "EUR")->field == "amount");
  CHECK(check_charge("u-1", 1, "E1R")->field == "currency");
}

TEST_CASE("the fake processor declines by amount and customer, fails at its rate") {
  processor_rules rules;
  rules.decline_over = 1000;
  rules.decline_customers = {"u-bad"};
  rules.failure_rate = 0.25;
  CHECK(decide(rules, "u-1", 1000, 0.5).outcome == verdict::kind::approved);
  CHECK(decide(rules, "u-1", 1001, 0.5).outcome == verdict::kind::declined);
  CHECK(decide(rules, "u-bad", 1, 0.5).outcome == verdict::kind::declined);
  CHECK(decide(rules, "u-1", 1, 0.1).outcome == verdict::kind::failed);
  CHECK(decide(rules, "u-1", 1, 0.25).outcome == verdict::kind::approved);
  rules.failure_rate = 0;
  CHECK(decide(rules, "u-1", 1, 0.0).outcome == verdict::kind::approved);
}
