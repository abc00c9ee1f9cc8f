#include <catch2/catch.hpp>

#include "domain/users/user_rules.hpp"

using namespace troupe::domain::users;

TEST_CASE("a well-formed user passes every rule") {
  CHECK_FALSE(check_new_user({"alice", "Alice Liddell", "alice@example.com"}));
  CHECK_FALSE(check_new_user({"", "Bob", "bob@example.org"}));  // id may be assigned later
}

TEST_CASE("user ids are 1 to 64 characters of letters, digits, dash and underscore") {
  CHECK(valid_user_id("a"));
  CHECK(valid_user_id("user_42-x"));
  CHECK(valid_user_id(std::string(64, 'x')));
  CHECK_FALSE(valid_user_id(""));
  CHECK_FALSE(valid_user_id(std::string(65, 'x')));
  CHECK_FALSE(valid_user_id("a/b"));
  CHECK_FALSE(valid_user_id("a b"));
  CHECK_FALSE(valid_user_id("é"));
  auto v = check_new_user({"bad id", "Name", "n@example.com"});
  REQUIRE(v);
  CHECK(v->field == "id");
}

TEST_CASE("names must be non-empty, at most 200 characters, without control characters") {
  auto empty = check_new_user({"a", "", "n@example.com"});
  REQUIRE(empty);
  CHECK(empty->field == "name");
  CHECK(check_new_user({"a", "   ", "n@example.com"})->field == "name");
  CHECK_FALSE(check_new_user({"a", std::string(200, 'n'), "n@example.com"}));
  CHECK(check_new_user({"a", std::string(201, 'n'), "n@example.com"})->field == "name");
  // 200 two-byte characters are 200 characters, not 400
  std::string umlauts;
  for (int i = 0; i < 200; ++i) umlauts += "\xc3\xa4";
  CHECK_FALSE(check_new_user({"a", umlauts, "n@example.com"}));
  CHECK(check_new_user({"a", "line\nbreak", "n@example.com"})->field == "name");
}

TEST_CASE("emails must be plausible") {
  for (auto good : {"a@b.co", "first.last+tag@sub.example.org"}) CHECK(plausible_email(good));
  for (auto bad : {"", "plain", "@example.com", "a@", "a@b", "a@.com", "a@b.", "a@@b.com",
                   "a b@c.com", "a@b..com"})
    CHECK_FALSE(plausible_email(bad));
  CHECK_FALSE(plausible_email(std::string(250, 'a') + "@b.com"));
  CHECK(check_new_user({"a", "A", "nope"})->field == "email");
}

TEST_CASE("generated ids follow the id rules and differ with their entropy") {
  auto a = make_user_id(1);
  auto b = make_user_id(0xfedcba9876543210ULL);
  CHECK(a == "u-0000000000000001");
  CHECK(b == "u-fedcba9876543210");
  CHECK(valid_user_id(a));
  CHECK(valid_user_id(b));
}
