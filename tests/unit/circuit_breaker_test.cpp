// The circuit breaker's rules, on a clock the test moves.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/core/circuit_breaker.hpp"

using namespace troupe;
using namespace std::chrono_literals;
using state = circuit_breaker::state;

namespace {

struct harness {
  breaker_settings settings;
  std::vector<std::string> changes;
  circuit_breaker::clock::time_point now{std::chrono::hours{1}};
  circuit_breaker breaker;

  explicit harness(breaker_settings s)
      : settings(s), breaker(s, [this](state from, state to, const std::string&) {
          changes.push_back(std::string(circuit_breaker::name(from)) + "->" +
                            circuit_breaker::name(to));
        }) {}

  // One call through the breaker; false when it was refused.
  bool call(bool fails) {
    auto t = breaker.admit(now);
    if (!t.admitted) return false;
    breaker.record(t, fails, now);
    return true;
  }
};

breaker_settings small() {
  breaker_settings s;
  s.failure_ratio = 0.5;
  s.window = 1000ms;
  s.minimum_calls = 4;
  s.open_for = 500ms;
  s.trial_calls = 2;
  return s;
}

}  // namespace

TEST_CASE("the breaker stays closed below the minimum call count, whatever fails") {
  harness h{small()};
  for (int i = 0; i < 3; ++i) CHECK(h.call(true));
  CHECK(h.breaker.current() == state::closed);
  CHECK(h.call(true));  // the fourth: 4 of 4 failed
  CHECK(h.breaker.current() == state::open);
  CHECK(h.changes == std::vector<std::string>{"closed->open"});
}

TEST_CASE("the breaker opens at the failure ratio, not below it") {
  harness h{small()};
  CHECK(h.call(false));
  CHECK(h.call(false));
  CHECK(h.call(false));
  CHECK(h.call(true));  // 1 of 4
  CHECK(h.call(true));  // 2 of 5
  CHECK(h.breaker.current() == state::closed);
  CHECK(h.call(true));  // 3 of 6: half
  CHECK(h.breaker.current() == state::open);
}

TEST_CASE("failures older than the window are forgotten") {
  harness h{small()};
  CHECK(h.call(true));
  CHECK(h.call(true));
  CHECK(h.call(true));
  h.now += 1100ms;  // past the window
  CHECK(h.call(true));
  CHECK(h.call(false));
  CHECK(h.call(false));
  CHECK(h.call(false));  // 1 of 4 in the window
  CHECK(h.breaker.current() == state::closed);
}

TEST_CASE("open refuses with the time left, then lets trial calls through and closes") {
  harness h{small()};
  for (int i = 0; i < 4; ++i) h.call(true);
  REQUIRE(h.breaker.current() == state::open);
  h.now += 200ms;
  auto refused = h.breaker.admit(h.now);
  CHECK_FALSE(refused.admitted);
  CHECK(refused.retry_in == 300ms);
  h.now += 300ms;
  auto first = h.breaker.admit(h.now);
  auto second = h.breaker.admit(h.now);
  CHECK(first.admitted);
  CHECK(first.trial);
  CHECK(second.trial);
  CHECK_FALSE(h.breaker.admit(h.now).admitted);  // only two trials at once
  CHECK(h.breaker.current() == state::half_open);
  h.breaker.record(first, false, h.now);
  CHECK(h.breaker.current() == state::half_open);
  h.breaker.record(second, false, h.now);
  CHECK(h.breaker.current() == state::closed);
  CHECK(h.changes ==
        std::vector<std::string>{"closed->open", "open->half_open", "half_open->closed"});
  // Closed again from an empty window: one failure does not reopen it.
  CHECK(h.call(true));
  CHECK(h.breaker.current() == state::closed);
}

TEST_CASE("a failed trial opens the breaker again for the whole open time") {
  harness h{small()};
  for (int i = 0; i < 4; ++i) h.call(true);
  h.now += 500ms;
  auto trial = h.breaker.admit(h.now);
  REQUIRE(trial.trial);
  h.breaker.record(trial, true, h.now);
  CHECK(h.breaker.current() == state::open);
  h.now += 499ms;
  CHECK_FALSE(h.breaker.admit(h.now).admitted);
  h.now += 1ms;
  CHECK(h.breaker.admit(h.now).admitted);
}

TEST_CASE("a trial given back frees its place; a stale trial decides nothing") {
  harness h{small()};
  for (int i = 0; i < 4; ++i) h.call(true);
  h.now += 500ms;
  auto a = h.breaker.admit(h.now);
  auto b = h.breaker.admit(h.now);
  CHECK_FALSE(h.breaker.admit(h.now).admitted);
  h.breaker.cancel(b);
  auto c = h.breaker.admit(h.now);
  CHECK(c.trial);
  h.breaker.record(a, true, h.now);  // reopens: c belongs to the cycle that ended
  REQUIRE(h.breaker.current() == state::open);
  h.now += 500ms;
  auto d = h.breaker.admit(h.now);
  h.breaker.record(c, false, h.now);
  h.breaker.record(c, false, h.now);
  CHECK(h.breaker.current() == state::half_open);  // c's successes do not count here
  h.breaker.record(d, false, h.now);
  CHECK(h.breaker.current() == state::half_open);
}

TEST_CASE("calls that end after the breaker opened do not count again") {
  harness h{small()};
  auto late = h.breaker.admit(h.now);
  for (int i = 0; i < 4; ++i) h.call(true);
  REQUIRE(h.breaker.current() == state::open);
  h.breaker.record(late, true, h.now);
  h.now += 500ms;
  CHECK(h.breaker.admit(h.now).admitted);  // half-open as planned, not reopened by `late`
}

TEST_CASE("a failure ratio of 0 turns the breaker off") {
  auto s = small();
  s.failure_ratio = 0;
  harness h{s};
  for (int i = 0; i < 100; ++i) CHECK(h.call(true));
  CHECK(h.breaker.current() == state::closed);
  CHECK(h.changes.empty());
}
