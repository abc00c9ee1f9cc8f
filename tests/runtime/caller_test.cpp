// The caller on a real actor system: what is refused before sending, what fails after, what
// is left behind (nothing), and how the deadline crosses a process boundary.
#include <catch2/catch.hpp>

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
        calls::call_options options;
        options.deadline = self->clock().now() + std::chrono::milliseconds{deadline_ms};
        self->state.calls->call<int>(
            self->state.target, ping{{}, value}, options,
            [self, report](int answer) { self->send(report, "value " + std::to_string(answer)); },
            [self, report](const caf::error& err) {
              auto info = describe(err);
              self->send(report, std::string(info.name), info.retry_after.count());
            });
      },
      [self](calls::tick_atom) { self->state.calls->tick(); },
      [self](count_atom) {
        return caf::make_message(static_cast<int>(self->state.calls->in_flight()),
                                 self->state.unexpected);
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

TEST_CASE("what was never sent says so: no handle, a spent budget, a stopped callee") {
  fixture fx;
  fx.call(1, 0);  // no budget left
  CHECK(fx.outcome() == "deadline_exceeded");
  fx.self->send_exit(fx.echo, caf::exit_reason::kill);
  fx.call(1, 5000);  // the handle still points at the dead actor: CAF bounces the request
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
  call_context none;
  CHECK(round_trip(none, 0ms).deadline == call_context::clock::time_point::max());
  auto late = round_trip(make_call_context("test", -5ms), 0ms);
  CHECK(past_deadline(late, call_context::clock::now()));
}
