// The gateway on CAF's deterministic test coordinator: time is the coordinator's clock, so
// deadlines expire exactly when the test says, and every message is delivered by sched.run().
#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <caf/test/dsl.hpp>
// The CAF test engine's definitions are in tests/support/caf_test_engine.cpp.

#include <nlohmann/json.hpp>

#include "actors/gateway/gateway.hpp"
#include "runtime/core/error.hpp"
#include "runtime/http/exchange.hpp"
#include "runtime/http/route.hpp"
#include "tests/support/ping.hpp"

using namespace troupe;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

using test::ping;

using release_atom = caf::atom_constant<caf::atom("release")>;
using count_atom = caf::atom_constant<caf::atom("count")>;

struct callee_state {
  std::vector<std::pair<caf::response_promise, int>> held;
  int received = 0;
  bool hold = true;
};

caf::behavior callee(caf::stateful_actor<callee_state>* self, bool hold) {
  self->state.hold = hold;
  return {
      [self](ping& p) -> caf::result<int> {
        ++self->state.received;
        if (!self->state.hold) return p.value;
        self->state.held.emplace_back(self->make_response_promise(), p.value);
        return caf::delegated<int>{};
      },
      [self](release_atom) {
        for (auto& [rp, value] : self->state.held) rp.deliver(value);
        self->state.held.clear();
      },
      [self](count_atom) { return self->state.received; },
  };
}

// GET /echo/{n} -> ping{n} -> {"value": n}
std::vector<route> echo_routes() {
  auto r = make_route<int>(
      http_method::get, "/echo/{n}", no_body,
      [](const route_input& in) -> caf::expected<ping> {
        auto& text = in.param(0);
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
          return make_error(errc::invalid_argument, "n must be a number", "n");
        return ping{{}, std::stoi(text)};
      },
      [](int value) {
        return json_response(200, json{{"value", value}});
      });
  r.capability = "echo";
  return {r};
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<directory_view> view =
      std::make_shared<directory_view>(std::vector<std::string>{"echo"}, 3);
  std::shared_ptr<const router> routes = std::make_shared<const router>(echo_routes());
  caf::actor echo, gateway;
  std::shared_ptr<std::vector<http_response>> answers =
      std::make_shared<std::vector<http_response>>();
  static constexpr auto timeout = 500ms;

  explicit fixture(bool hold = true) {
    echo = sys.spawn(callee, hold);
    view->set(0, echo, "");
    troupe::gateway::gateway_config cfg;
    cfg.view = view;
    cfg.routes = routes;
    cfg.request_timeout = timeout;
    gateway = troupe::gateway::spawn_gateway(sys, cfg);
    sched.run();
  }
  ~fixture() override {
    self->send_exit(gateway, caf::exit_reason::kill);
    self->send_exit(echo, caf::exit_reason::kill);
    sched.run();
  }

  // An admitted GET /echo/{n}, as the HTTP server hands it over, received at `received_at`.
  void request(const std::string& n, std::optional<caf::actor_clock::time_point> received = {}) {
    http_request req;
    req.method = http_method::get;
    req.target = "/echo/" + n;
    auto match = routes->find(http_method::get, req.path());
    req.route = match.index;
    req.params = match.params;
    req.id = "req-" + n;
    req.received_at = received.value_or(sched.clock().now());
    auto sink = answers;
    caf::anon_send(gateway, http_exchange{std::move(req), [sink](http_response&& res) {
                                            sink->push_back(std::move(res));
                                          }});
    sched.run();
  }

  int received_by_callee() {
    int n = -1;
    auto h = self->request(echo, caf::infinite, count_atom::value);
    sched.run();
    h.receive([&](int x) { n = x; }, [](caf::error&) {});
    return n;
  }

  std::string in_flight_detail() {
    std::string detail;
    auto h = self->request(gateway, caf::infinite, health_atom::value);
    sched.run();
    h.receive([&](health_report& r) { detail = r.at(0).detail; }, [](caf::error&) {});
    return detail;
  }

  json error_of(std::size_t i) { return json::parse(answers->at(i).body)["error"]; }
};

struct answering_fixture : fixture {
  answering_fixture() : fixture(false) {}
};

}  // namespace

TEST_CASE_METHOD(answering_fixture, "a routed request becomes a call and its reply a response") {
  request("42");
  REQUIRE(answers->size() == 1);
  CHECK(answers->at(0).status == 200);
  CHECK(json::parse(answers->at(0).body) == json{{"value", 42}});
  request("x1");  // refused by the route's own mapping, without a call
  REQUIRE(answers->size() == 2);
  CHECK(answers->at(1).status == 400);
  CHECK(error_of(1)["field"] == "n");
  CHECK(received_by_callee() == 1);
}

TEST_CASE_METHOD(fixture, "a call past its deadline is answered 504 outcome_unknown, once") {
  request("1");
  CHECK(answers->empty());
  CHECK(in_flight_detail() == "1 calls in flight");
  sched.advance_time(timeout - 20ms);  // ticks run, the deadline is still ahead
  sched.run();
  CHECK(answers->empty());
  sched.advance_time(40ms);
  sched.run();
  REQUIRE(answers->size() == 1);
  CHECK(answers->at(0).status == 504);
  CHECK(error_of(0)["code"] == "outcome_unknown");
  CHECK(error_of(0)["message"].get<std::string>().find("may have happened") != std::string::npos);
  CHECK(in_flight_detail() == "0 calls in flight");
  // The callee answers after all: nobody is told twice, nothing is left registered.
  self->send(echo, release_atom::value);
  sched.run();
  CHECK(answers->size() == 1);
  CHECK(in_flight_detail() == "0 calls in flight");
}

TEST_CASE_METHOD(fixture, "losing the callee fails every call in flight at the next tick") {
  request("1");
  request("2");
  request("3");
  CHECK(answers->empty());
  view->set(0, nullptr, "node 'core' unreachable");  // what the directory does on node loss
  sched.advance_time(10ms);                          // one tick; the deadline is 490 ms away
  sched.run();
  REQUIRE(answers->size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(answers->at(i).status == 504);
    CHECK(error_of(i)["code"] == "outcome_unknown");
  }
  // New requests are not sent at all: 503, safe to retry, with a hint when.
  request("4");
  REQUIRE(answers->size() == 4);
  CHECK(answers->at(3).status == 503);
  CHECK(error_of(3)["code"] == "unavailable");
  bool has_retry_after = false;
  for (auto& [k, v] : answers->at(3).headers) has_retry_after |= k == "Retry-After" && v == "1";
  CHECK(has_retry_after);
  CHECK(received_by_callee() == 3);
}

TEST_CASE_METHOD(fixture, "time spent queued counts: a request older than its budget is not sent") {
  request("1", sched.clock().now() - timeout - 1ms);
  REQUIRE(answers->size() == 1);
  CHECK(answers->at(0).status == 504);
  CHECK(error_of(0)["code"] == "deadline_exceeded");
  CHECK(received_by_callee() == 0);
}

TEST_CASE_METHOD(fixture, "beyond the in-flight bound requests are refused at once") {
  request("1");
  request("2");
  request("3");  // bound: 3
  CHECK(answers->empty());
  request("4");
  REQUIRE(answers->size() == 1);
  CHECK(answers->at(0).status == 503);
  CHECK(received_by_callee() == 3);
  self->send(echo, release_atom::value);
  sched.run();
  CHECK(answers->size() == 4);
  request("5");  // room again
  CHECK(received_by_callee() == 4);
}

TEST_CASE_METHOD(fixture,
                 "a handle replaced between ticks still fails the calls sent to the old one") {
  request("1");  // sent to the first callee, which holds it
  auto replacement = sys.spawn(callee, true);
  view->set(0, nullptr, "restarting");  // lost ...
  view->set(0, replacement, "");        // ... and back, before the caller's next tick
  request("2");                         // sent to the replacement, under the new epoch
  sched.advance_time(10ms);
  sched.run();
  REQUIRE(answers->size() == 1);  // only the call to the old handle
  CHECK(answers->at(0).status == 504);
  CHECK(error_of(0)["code"] == "outcome_unknown");
  self->send(replacement, release_atom::value);
  sched.run();
  REQUIRE(answers->size() == 2);
  CHECK(answers->at(1).status == 200);
  self->send_exit(replacement, caf::exit_reason::kill);
  sched.run();
}

TEST_CASE("a request's budget: the route's, the gateway's, or the client's header up to a bound") {
  using troupe::gateway::request_budget;
  troupe::http_request req;
  CHECK(*request_budget(req, 0ms, 5000ms, 60000ms) == 5000ms);
  CHECK(*request_budget(req, 1500ms, 5000ms, 60000ms) == 1500ms);
  req.headers = {{"x-request-timeout-ms", "250"}};
  CHECK(*request_budget(req, 1500ms, 5000ms, 60000ms) == 250ms);
  req.headers = {{"X-Request-Timeout-Ms", "999999999"}};
  CHECK(*request_budget(req, 0ms, 5000ms, 60000ms) == 60000ms);  // capped, not refused
  for (auto bad : {"", "0", "-5", "1.5", "12ms", "1e3", "9999999999", " 5"}) {
    req.headers = {{"X-Request-Timeout-Ms", bad}};
    auto budget = request_budget(req, 0ms, 5000ms, 60000ms);
    INFO("header value '" << bad << "'");
    REQUIRE_FALSE(budget);
    CHECK(troupe::describe(budget.error()).code == troupe::errc::invalid_argument);
    CHECK(troupe::describe(budget.error()).field == "X-Request-Timeout-Ms");
  }
}

TEST_CASE("authenticate: public routes pass, others need a valid bearer token and their scope") {
  security::token_settings settings;
  settings.secret = "a-secret-of-at-least-thirty-two-bytes-0123";
  security::token_verifier verifier{settings};
  const std::int64_t now = 1'800'000'000;
  auto token_for = [&](std::vector<std::string> scopes) {
    return security::mint_token(settings, {"alice", std::move(scopes), 0}, now,
                                std::chrono::seconds{60});
  };
  route open, closed, scoped;
  open.public_access = true;
  scoped.scope = "inventory:write";
  auto with = [](std::vector<std::pair<std::string, std::string>> headers) {
    http_request req;
    req.id = "r1";
    req.headers = std::move(headers);
    return req;
  };
  auto challenge_of = [](const troupe::authentication& a) {
    for (auto& [name, value] : a.refusal->headers)
      if (name == "WWW-Authenticate") return value;
    return std::string{};
  };

  auto anonymous = troupe::authenticate(open, with({}), &verifier, now);
  CHECK_FALSE(anonymous.refusal);
  CHECK_FALSE(anonymous.who);

  auto missing = troupe::authenticate(closed, with({}), &verifier, now);
  REQUIRE(missing.refusal);
  CHECK(missing.refusal->status == 401);
  CHECK(challenge_of(missing) == "Bearer realm=\"troupe\"");

  auto good = troupe::authenticate(closed, with({{"authorization", "BEARER " + token_for({})}}),
                                   &verifier, now);
  REQUIRE(good.who);
  CHECK(good.who->subject == "alice");
  CHECK_FALSE(good.refusal);

  auto expired = troupe::authenticate(closed, with({{"Authorization", "Bearer " + token_for({})}}),
                                      &verifier, now + 3600);
  REQUIRE(expired.refusal);
  CHECK(expired.refusal->status == 401);
  CHECK(challenge_of(expired) == "Bearer realm=\"troupe\", error=\"invalid_token\"");
  CHECK(expired.why == "expired");
  CHECK(expired.refusal->body.find("expired") == std::string::npos);

  auto twice = troupe::authenticate(closed,
                                    with({{"Authorization", "Bearer " + token_for({})},
                                          {"Authorization", "Bearer " + token_for({})}}),
                                    &verifier, now);
  REQUIRE(twice.refusal);
  CHECK(twice.refusal->status == 401);

  auto unscoped = troupe::authenticate(
      scoped, with({{"Authorization", "Bearer " + token_for({"orders:read"})}}), &verifier, now);
  REQUIRE(unscoped.refusal);
  CHECK(unscoped.refusal->status == 403);
  CHECK(challenge_of(unscoped) ==
        "Bearer realm=\"troupe\", error=\"insufficient_scope\", scope=\"inventory:write\"");
  for (auto scope : {"inventory:write", "admin"}) {
    auto ok = troupe::authenticate(
        scoped, with({{"Authorization", "Bearer " + token_for({scope})}}), &verifier, now);
    CHECK(ok.who);
  }
}
