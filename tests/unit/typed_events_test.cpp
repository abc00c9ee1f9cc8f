// Domain events defined once as types (runtime/events/typed_event.hpp): users' user_created
// as users writes it and orders reads it.
#include <catch2/catch.hpp>

#include "actors/orders/orders_events.hpp"
#include "actors/users/users_protocol.hpp"
#include "runtime/events/typed_event.hpp"

using namespace troupe;

TEST_CASE("a typed event travels as its envelope and comes back as the same type") {
  auto e = events::envelope_of(users::user_created{"Ann", "ann@example.com"}, "users", "u-1",
                               "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(e.type == "UserCreated");
  CHECK(e.source == "users");
  CHECK(e.aggregate_id == "u-1");
  CHECK(nlohmann::json::parse(e.payload) ==
        nlohmann::json{{"name", "Ann"}, {"email", "ann@example.com"}});
  auto back = events::event_as<users::user_created>(e);
  REQUIRE(back);
  CHECK(back->name == "Ann");
  CHECK(back->email == "ann@example.com");

  // Another type is not this event; a payload that is not this event's JSON is refused,
  // naming the type.
  auto other = e;
  other.type = "OrderCreated";
  CHECK_FALSE(events::event_as<users::user_created>(other));
  for (auto bad : {"[]", "not json", R"({"name": "Ann"})", R"({"name": 5, "email": "a@b.co"})"}) {
    auto broken = e;
    broken.payload = bad;
    INFO(bad);
    CHECK_THROWS_WITH(events::event_as<users::user_created>(broken),
                      Catch::Contains("UserCreated"));
    // Orders skips what it cannot read: users owns its events.
    CHECK_FALSE(orders::customer_from(broken));
  }
  CHECK(orders::customer_from(e)->email == "ann@example.com");
}
