// The caller on a real actor system: what is refused before sending, what fails after, what
// is left behind (nothing), how the deadline crosses a process boundary, and the circuit
// breaker in front of a callee.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <functional>
#include <thread>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "runtime/calls/caller.hpp"
#include "runtime/core/error.hpp"
#include "tests/support/ping.hpp"
#include "tests/support/process.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

using test::ping;

using call_atom = caf::atom_constant<caf::atom("call")>;
using later_atom = caf::atom_constant<caf::atom("later")>;
using count_atom = caf::atom_constant<caf::atom("count")>;

caf::behavior callee(caf::event_based_actor* self, int) {
  auto held = std::make_shared<std::vector<std::pair<caf::response_promise, int>>>();
  return {
      [self, held](ping& p) -> caf::result<int> {
        if (p.value > 0) return p.value;
        held->emplace_back(self->make_response_promise(), p.value);
        if (p.value < 0)
          self->delayed_send(self, std::chrono::milliseconds{-p.value}, later_atom::value,
                             held->size() - 1);
        return caf::delegated<int>{};
      },
      [held](later_atom, std::size_t index) {
        auto& [rp, value] = held->at(index);
        rp.deliver(value);
      },
  };
}

struct client_state {
  std::unique_ptr<calls::caller> calls;
  calls::callee target;
  int unexpected = 0;
};

// One call of `value` to the target; reports "value N", or the error code and retry hint.
void call_and_report(caf::stateful_actor<client_state>* self, const caf::actor& report, int value,
                     int deadline_ms, int attempts) {
  calls::call_options options;
  options.deadline = self->clock().now() + std::chrono::milliseconds{deadline_ms};
  options.retry.attempts = attempts;
  options.retry.backoff = {20ms, 200ms};
  self->state.calls->call<int>(
      self->state.target, ping{{}, value}, options,
      [self, report](int answer) { self->send(report, "value " + std::to_string(answer)); },
      [self, report](const caf::error& err) {
        auto info = describe(err);
        self->send(report, std::string(info.name), info.retry_after.count());
      });
}

// Makes one call per (call_atom, value, deadline_ms) and reports "value N" or the error code
// to `report`; (count_atom) answers the calls it still tracks and the stray messages it saw.
caf::behavior client(caf::stateful_actor<client_state>* self, std::shared_ptr<directory_view> view,
                     caf::actor report) {
  self->set_default_handler(
      [self](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
        ++self->state.unexpected;
        return caf::message{};
      });
  self->state.calls = std::make_unique<calls::caller>(self, view, "client");
  self->state.target = self->state.calls->resolve("echo");
  return {
      [self, report](call_atom, int value, int deadline_ms) {
        call_and_report(self, report, value, deadline_ms, 1);
      },
      // The same, declared idempotent: up to `attempts` sends, backoff 20 ms doubling.
      [self, report](call_atom, int value, int deadline_ms, int attempts) {
        call_and_report(self, report, value, deadline_ms, attempts);
      },
      [self](calls::tick_atom) { self->state.calls->tick(); },
      [self](count_atom) {
        return caf::make_message(static_cast<int>(self->state.calls->in_flight()),
                                 self->state.unexpected);
      },
      [self](count_atom, later_atom) {
        return static_cast<int>(self->state.calls->retries_waiting());
      },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<directory_view> view =
      std::make_shared<directory_view>(std::vector<std::string>{"echo"}, 2);
  caf::scoped_actor self;
  caf::actor echo, cli;

  fixture() : sys(cfg.set("scheduler.max-threads", std::int64_t{2})), self(sys) {
    echo = sys.spawn(callee, 0);
    view->set(0, echo, "");
    cli = sys.spawn(client, view, caf::actor{self});
  }
  ~fixture() {
    self->send_exit(cli, caf::exit_reason::kill);
    self->send_exit(echo, caf::exit_reason::kill);
  }

  void call(int value, int deadline_ms) { self->send(cli, call_atom::value, value, deadline_ms); }

  // The next outcome reported: "value N", or an error code and its retry hint.
  std::string outcome(long* retry_after = nullptr) {
    std::string out = "(none within 5 s)";
    self->receive([&](const std::string& v) { out = v; },
                  [&](const std::string& code, long retry) {
                    out = code;
                    if (retry_after) *retry_after = retry;
                  },
                  caf::after(5s) >> [] {});
    return out;
  }

  std::pair<int, int> counts() {
    std::pair<int, int> out{-1, -1};
    self->request(cli, 5s, count_atom::value)
        .receive(
            [&](int a, int b) {
              out = {a, b};
            },
            [](caf::error&) {});
    return out;
  }
};

}  // namespace

TEST_CASE("an answered call leaves nothing behind") {
  fixture fx;
  fx.call(7, 5000);
  CHECK(fx.outcome() == "value 7");
  CHECK(fx.counts() == std::make_pair(0, 0));
  CHECK(fx.view->in_flight(0) == 0);
}

TEST_CASE(
    "a call not answered by its deadline fails as outcome_unknown; the late answer goes nowhere") {
  fixture fx;
  auto t0 = std::chrono::steady_clock::now();
  fx.call(-2000, 50);  // answered after 2 s, deadline after 50 ms
  CHECK(fx.outcome() == "outcome_unknown");
  auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited >= 50ms);
  CHECK(waited < 1500ms);  // failed at its deadline, not when the answer came
  CHECK(fx.view->in_flight(0) == 0);
  // The late answer arrives and finds no handler: neither a second outcome nor a stray.
  std::string second = "none";
  fx.self->receive([&](const std::string& v) { second = v; }, caf::after(2500ms) >> [] {});
  CHECK(second == "none");
  CHECK(fx.counts() == std::make_pair(0, 0));
}

TEST_CASE("beyond the in-flight bound a call is refused at once with a retry hint") {
  fixture fx;  // bound: 2
  fx.call(0, 60000);
  fx.call(0, 60000);
  long retry = 0;
  auto t0 = std::chrono::steady_clock::now();
  fx.call(1, 60000);
  CHECK(fx.outcome(&retry) == "unavailable");
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  CHECK(retry >= 1);
  CHECK(fx.view->in_flight(0) == 2);
  CHECK(fx.counts().first == 2);
}

TEST_CASE("a handle that changes under a call fails it as outcome_unknown, fast") {
  fixture fx;
  fx.call(0, 60000);  // held by the callee
  REQUIRE(test::eventually([&] { return fx.view->in_flight(0) == 1; }, 5s, 1ms));
  auto replacement = fx.sys.spawn(callee, 0);
  auto t0 = std::chrono::steady_clock::now();
  fx.view->set(0, replacement, "");  // what the directory does when a node is lost and back
  CHECK(fx.outcome() == "outcome_unknown");
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);  // a tick, not the 60 s deadline
  fx.call(3, 5000);                                   // new calls go to the new handle
  CHECK(fx.outcome() == "value 3");
  fx.self->send_exit(replacement, caf::exit_reason::kill);
}

TEST_CASE("a callee that stopped on a connected node gets time for CAF's bounce first") {
  fixture fx;
  fx.call(0, 60000);  // held by the callee: its promise dies with it, no bounce will come
  REQUIRE(test::eventually([&] { return fx.view->in_flight(0) == 1; }, 5s, 1ms));
  auto t0 = std::chrono::steady_clock::now();
  // What the directory does when a capability stops while its node stays connected.
  fx.view->set(0, nullptr, "restarting", true);
  CHECK(fx.outcome() == "outcome_unknown");
  auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited >= 200ms);  // the bounce grace, not at once as for a lost node
  CHECK(waited < 1s);      // nor the 60 s deadline
  CHECK(fx.view->in_flight(0) == 0);
}

TEST_CASE("what was never sent says so: no handle, a spent budget, a stopped callee") {
  fixture fx;
  fx.call(1, 0);  // no budget left
  CHECK(fx.outcome() == "deadline_exceeded");
  fx.self->send_exit(fx.echo, caf::exit_reason::kill);
  // The handle still points at the dead actor: the caller sees it stopped and sends nothing.
  REQUIRE(test::eventually(
      [&] {
        return caf::actor_cast<caf::abstract_actor*>(fx.echo)->getf(
            caf::abstract_actor::is_terminated_flag);
      },
      5s, 1ms));
  fx.call(1, 5000);
  CHECK(fx.outcome() == "unavailable");
  fx.view->set(0, nullptr, "node 'far' unreachable");
  long retry = 0;
  fx.call(1, 5000);
  CHECK(fx.outcome(&retry) == "unavailable");
  CHECK(retry >= 1);
  CHECK(fx.counts() == std::make_pair(0, 0));
  CHECK(fx.view->in_flight(0) == 0);
}

TEST_CASE("the deadline crosses a node as time left, whatever the clocks say") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto round_trip = [&](call_context ctx, std::chrono::milliseconds in_transit) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    REQUIRE_FALSE(sink(ctx));
    std::this_thread::sleep_for(in_transit);
    call_context out;
    caf::binary_deserializer source{sys, buf};
    REQUIRE_FALSE(source(out));
    return out;
  };
  auto ctx = make_call_context("test", 1000ms);
  ctx.principal = "alice";
  auto left_before = ctx.deadline - call_context::clock::now();
  auto received = round_trip(ctx, 50ms);
  auto left_after = received.deadline - call_context::clock::now();
  // The receiver's deadline is its arrival time plus the budget that was left when sent:
  // the same budget, not the sender's clock reading.
  CHECK(left_after <= left_before);
  CHECK(left_after > left_before - 20ms);
  CHECK(received.trace_id == ctx.trace_id);
  CHECK(received.principal == "alice");
  CHECK_FALSE(received.from_client);
  ctx.from_client = true;
  CHECK(round_trip(ctx, 0ms).from_client);
  call_context none;
  CHECK(round_trip(none, 0ms).deadline == call_context::clock::time_point::max());
  auto late = round_trip(make_call_context("test", -5ms), 0ms);
  CHECK(past_deadline(late, call_context::clock::now()));
}

namespace {

enum class mode { answer, hold, reject };
// A business answer of the kind a capability defines (core/error.hpp error_code).
inline constexpr error_code out_of_stock{"out_of_stock", 409};

// Counts every call that reaches it; answers, holds or rejects as `how` says now.
caf::behavior counting_callee(caf::event_based_actor* self,
                              std::shared_ptr<std::atomic<int>> received,
                              std::shared_ptr<std::atomic<mode>> how) {
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  return {
      [self, received, how, held](ping& p) -> caf::result<int> {
        ++*received;
        switch (how->load()) {
          case mode::answer:
            return p.value;
          case mode::reject:
            return make_error(out_of_stock, "no more");
          case mode::hold:
            break;
        }
        held->push_back(self->make_response_promise());
        return caf::delegated<int>{};
      },
  };
}

struct breaker_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<std::atomic<int>> received = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<mode>> how = std::make_shared<std::atomic<mode>>(mode::answer);
  std::shared_ptr<directory_view> view;
  caf::scoped_actor self;
  caf::actor echo, cli;

  static breaker_settings settings() {
    breaker_settings b;
    b.failure_ratio = 0.5;
    b.window = 10s;
    b.minimum_calls = 4;
    b.open_for = 300ms;
    b.trial_calls = 2;
    return b;
  }

  breaker_fixture() : sys(cfg.set("scheduler.max-threads", std::int64_t{2})), self(sys) {
    view = std::make_shared<directory_view>(
        std::vector<std::string>{"echo"}, 100,
        [](const std::string&) { return std::make_unique<circuit_breaker>(settings()); });
    echo = sys.spawn(counting_callee, received, how);
    view->set(0, echo, "");
    cli = sys.spawn(client, view, caf::actor{self});
  }
  ~breaker_fixture() {
    self->send_exit(cli, caf::exit_reason::kill);
    self->send_exit(echo, caf::exit_reason::kill);
  }

  // One call; its outcome ("value N" or an error code) and how long it took.
  std::string call(int deadline_ms, std::chrono::steady_clock::duration* took = nullptr) {
    auto t0 = std::chrono::steady_clock::now();
    self->send(cli, call_atom::value, 1, deadline_ms);
    std::string out = "(none within 5 s)";
    self->receive([&](const std::string& v) { out = v; },
                  [&](const std::string& code, long) { out = code; }, caf::after(5s) >> [] {});
    if (took) *took = std::chrono::steady_clock::now() - t0;
    return out;
  }
  circuit_breaker::state state() const { return view->breaker(0).current(); }
};

}  // namespace

TEST_CASE(
    "the breaker opens on timeouts, fails fast without reaching the callee, and closes "
    "after trials succeed") {
  breaker_fixture fx;
  fx.how->store(mode::hold);
  for (int i = 0; i < 4; ++i) CHECK(fx.call(50) == "outcome_unknown");
  CHECK(fx.received->load() == 4);
  REQUIRE(fx.state() == circuit_breaker::state::open);

  // Open: refused at once, nothing sent.
  std::chrono::steady_clock::duration slowest{};
  for (int i = 0; i < 20; ++i) {
    std::chrono::steady_clock::duration took{};
    CHECK(fx.call(5000, &took) == "unavailable");
    slowest = std::max(slowest, took);
  }
  CHECK(fx.received->load() == 4);
  CHECK(slowest < 50ms);  // refused, not waited out
  std::printf("breaker open: slowest refusal of 20 took %.3f ms\n",
              std::chrono::duration<double, std::milli>(slowest).count());

  // The callee recovers; once the open time is over trial calls pass and close it.
  fx.how->store(mode::answer);
  int refused = 0;
  REQUIRE(test::eventually(
      [&] {
        if (fx.call(5000) == "value 1") return true;
        ++refused;
        return false;
      },
      3s, 10ms));
  CHECK(fx.state() == circuit_breaker::state::half_open);
  CHECK(fx.call(5000) == "value 1");
  CHECK(fx.state() == circuit_breaker::state::closed);
  CHECK(fx.received->load() == 6);  // the two trials only: the refused calls never arrived
  CHECK(fx.view->in_flight(0) == 0);
}

TEST_CASE("rejections are answers: they never open the breaker") {
  breaker_fixture fx;
  fx.how->store(mode::reject);
  for (int i = 0; i < 20; ++i) CHECK(fx.call(5000) == "out_of_stock");
  CHECK(fx.state() == circuit_breaker::state::closed);
  CHECK(fx.received->load() == 20);
}

TEST_CASE("a trial that times out opens the breaker again") {
  breaker_fixture fx;
  fx.how->store(mode::hold);
  for (int i = 0; i < 4; ++i) CHECK(fx.call(50) == "outcome_unknown");
  REQUIRE(fx.state() == circuit_breaker::state::open);
  REQUIRE(test::eventually([&] { return fx.call(50) == "outcome_unknown"; }, 3s, 10ms));
  CHECK(fx.state() == circuit_breaker::state::open);
  CHECK(fx.received->load() == 5);
}

namespace {

int retries_waiting(breaker_fixture& fx) {
  int out = -1;
  fx.self->request(fx.cli, 5s, count_atom::value, later_atom::value)
      .receive([&](int n) { out = n; }, [](caf::error&) {});
  return out;
}

std::string next_outcome(caf::scoped_actor& self) {
  std::string out = "(none within 5 s)";
  self->receive([&](const std::string& v) { out = v; },
                [&](const std::string& code, long) { out = code; }, caf::after(5s) >> [] {});
  return out;
}

}  // namespace

TEST_CASE("an idempotent call is sent again once its callee has a handle") {
  breaker_fixture fx;
  fx.view->set(0, nullptr, "restarting");
  fx.self->send(fx.cli, call_atom::value, 7, 5000, 10);
  REQUIRE(test::eventually([&] { return retries_waiting(fx) == 1; }, 5s, 1ms));
  fx.view->set(0, fx.echo, "");
  CHECK(next_outcome(fx.self) == "value 7");
  CHECK(fx.received->load() == 1);
  CHECK(retries_waiting(fx) == 0);
}

TEST_CASE("a call not declared idempotent is never sent again") {
  breaker_fixture fx;
  fx.view->set(0, nullptr, "restarting");
  fx.self->send(fx.cli, call_atom::value, 7, 5000);
  CHECK(next_outcome(fx.self) == "unavailable");
  CHECK(retries_waiting(fx) == 0);
}

TEST_CASE("an idempotent call lost with its handle is sent again to the new one") {
  breaker_fixture fx;
  fx.how->store(mode::hold);
  fx.self->send(fx.cli, call_atom::value, 5, 5000, 3);
  REQUIRE(test::eventually([&] { return fx.received->load() == 1; }, 5s, 1ms));
  auto answering = std::make_shared<std::atomic<mode>>(mode::answer);
  auto replacement = fx.sys.spawn(counting_callee, fx.received, answering);
  fx.view->set(0, replacement, "");  // what the directory does after a restart
  CHECK(next_outcome(fx.self) == "value 5");
  CHECK(fx.received->load() == 2);
  fx.self->send_exit(replacement, caf::exit_reason::kill);
}

TEST_CASE("retries stop before the deadline, and answers are never retried") {
  breaker_fixture fx;
  fx.view->set(0, nullptr, "gone");
  auto t0 = std::chrono::steady_clock::now();
  fx.self->send(fx.cli, call_atom::value, 7, 150, 100);
  CHECK(next_outcome(fx.self) == "unavailable");
  CHECK(std::chrono::steady_clock::now() - t0 < 150ms);  // gave up rather than wait past it
  CHECK(retries_waiting(fx) == 0);

  fx.view->set(0, fx.echo, "");
  fx.how->store(mode::reject);
  fx.self->send(fx.cli, call_atom::value, 7, 5000, 5);
  CHECK(next_outcome(fx.self) == "out_of_stock");
  CHECK(fx.received->load() == 1);
}
