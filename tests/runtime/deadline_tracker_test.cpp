// The deadline tracker on a real actor system: expired requests fail with request_timeout
// through their own error handlers; answered ones are untouched, and a timeout injected for
// an answered request goes nowhere (not to the default handler either).
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "runtime/deadline_tracker.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

// Answers x with x, except 0, which it never answers.
caf::behavior server(caf::event_based_actor* self, int) {
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  return {[self, held](int x) -> caf::result<int> {
    if (x != 0) return x;
    held->push_back(self->make_response_promise());
    return caf::delegated<int>{};
  }};
}

struct client_state {
  deadline_tracker deadlines;
  std::vector<std::string> outcomes;
  int unexpected = 0;
  int open = 0;
};

// Asks `server` for each value with no CAF timeout and a 50 ms tracked deadline; reports the
// outcomes once every request has ended. With `inject_all`, it also injects timeouts for
// requests that were answered.
caf::behavior client(caf::stateful_actor<client_state>* self, caf::actor srv,
                     std::vector<int> values, bool inject_all, caf::actor report) {
  self->set_default_handler(
      [self](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
        ++self->state.unexpected;
        return caf::message{};
      });
  auto answered = std::make_shared<std::set<caf::message_id>>();
  auto deadline = deadline_tracker::clock::now() + 50ms;
  for (auto x : values) {
    auto handle = self->request(srv, caf::infinite, x);
    auto id = handle.id();
    self->state.deadlines.track(id, deadline);
    ++self->state.open;
    handle.then(
        [self, answered, id](int y) {
          answered->insert(id);
          self->state.outcomes.push_back("value " + std::to_string(y));
          --self->state.open;
        },
        [self](caf::error& err) {
          self->state.outcomes.push_back(err == caf::sec::request_timeout ? "timeout"
                                                                          : "other error");
          --self->state.open;
        });
  }
  self->delayed_send(self, 10ms, tick_atom::value);
  return {
      [=](tick_atom) {
        self->state.deadlines.expire(
            self, [&](caf::message_id id) { return inject_all || answered->count(id) == 0; });
        if (self->state.deadlines.empty() && self->state.open == 0) {
          // one more round trip through the mailbox so injected orphans are processed first
          self->send(self, done_atom::value);
          return;
        }
        self->delayed_send(self, 10ms, tick_atom::value);
      },
      [=](done_atom) {
        auto sorted = self->state.outcomes;
        std::sort(sorted.begin(), sorted.end());
        self->send(report, sorted, self->state.unexpected);
        self->quit();
      },
  };
}

std::pair<std::vector<std::string>, int> run_client(std::vector<int> values, bool inject_all) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", std::int64_t{2});
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto srv = sys.spawn(server, 0);
  auto cli = sys.spawn(client, srv, values, inject_all, caf::actor{self});
  std::pair<std::vector<std::string>, int> out;
  self->receive(
      [&](std::vector<std::string>& outcomes, int unexpected) {
        out = {outcomes, unexpected};
      },
      caf::after(std::chrono::seconds{5}) >>
          [&] {
            self->send_exit(cli, caf::exit_reason::kill);  // or the system waits for it
            out.second = -1;
          });
  self->send_exit(srv, caf::exit_reason::user_shutdown);
  REQUIRE(out.second != -1);  // the client reported within 5 s
  return out;
}

}  // namespace

TEST_CASE("expired requests fail with request_timeout; answered ones keep their answers") {
  auto [outcomes, unexpected] = run_client({1, 0, 2, 0}, false);
  CHECK(outcomes == std::vector<std::string>{"timeout", "timeout", "value 1", "value 2"});
  CHECK(unexpected == 0);
}

TEST_CASE("a timeout injected for an answered request reaches no handler") {
  auto [outcomes, unexpected] = run_client({1, 2}, true);
  CHECK(outcomes == std::vector<std::string>{"value 1", "value 2"});
  CHECK(unexpected == 0);
}
