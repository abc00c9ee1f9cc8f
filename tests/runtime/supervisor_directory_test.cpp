// The supervisor and the directory on a real actor system: crashes, restarts, giving up,
// and readiness with an unreachable remote node.
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "runtime/cluster/directory.hpp"
#include "runtime/core/atoms.hpp"
#include "runtime/core/error.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "tests/support/process.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

using crash_atom = caf::atom_constant<caf::atom("crash")>;

// A toy capability: doubles ints, throws on crash_atom; its first `fail_starts` starts throw.
start_function toy_start(caf::actor_system& sys, std::shared_ptr<std::atomic<int>> spawns,
                         int fail_starts) {
  return [&sys, spawns, fail_starts](const supervise_function&) {
    if (++*spawns <= fail_starts) throw std::runtime_error("disk on fire");
    // (spawned with an argument: CAF 0.17 trips UBSan on argument-less function actors)
    return sys.spawn(
        [](caf::event_based_actor*, int factor) -> caf::behavior {
          return {
              [factor](int x) { return x * factor; },
              [](crash_atom) -> int { throw std::runtime_error("boom"); },
              [](health_atom) {
                return health_report{{"toy", true, "ok"}};
              },
          };
        },
        2);
  };
}

struct node_config : caf::actor_system_config {
  node_config() {
    load<caf::io::middleman>();
    set("scheduler.max-threads", std::int64_t{2});
  }
};

struct fixture {
  node_config cfg;
  caf::actor_system sys{cfg};
  std::vector<caf::actor> actors;
  ~fixture() {
    for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  caf::actor directory(std::shared_ptr<directory_view> view, std::vector<std::string> local,
                       std::vector<remote_node_spec> remote = {}) {
    auto d = spawn_directory(
        sys, {"here", std::move(local), std::move(remote), std::move(view), nullptr});
    actors.push_back(d);
    return d;
  }

  struct toy_setup {
    std::shared_ptr<directory_view> view =
        std::make_shared<directory_view>(std::vector<std::string>{"toy"}, 100);
    caf::actor dir, sup;
    std::shared_ptr<std::atomic<int>> spawns = std::make_shared<std::atomic<int>>(0);
  };

  // The toy capability under a supervisor, in a directory hosting it here.
  toy_setup start_toy(int fail_starts, restart_policy policy) {
    toy_setup toy;
    toy.dir = directory(toy.view, {"toy"});
    toy.sup = supervise(toy_start(sys, toy.spawns, fail_starts), toy.dir, policy);
    return toy;
  }

  caf::actor supervise(start_function start, caf::actor dir, restart_policy policy) {
    auto s = spawn_supervisor(sys, "toy", std::move(start), dir, policy);
    actors.push_back(s);
    return s;
  }
};

// Waits (up to 5 s) until the view's handle for slot 0 satisfies `accept`; returns it.
caf::actor await_handle(const directory_view& view, std::function<bool(const caf::actor&)> accept) {
  caf::actor h;
  if (!test::eventually([&] { return accept(h = view.handle(0)); }, 5s, 2ms))
    FAIL("no matching handle in the directory view within 5 s");
  return h;
}

health_report health_of(caf::scoped_actor& self, caf::actor sup) {
  health_report out;
  self->request(sup, 5s, health_atom::value)
      .receive([&](health_report& r) { out = std::move(r); },
               [&](caf::error& e) { FAIL("no health answer: " << to_string(e)); });
  return out;
}

const restart_policy quick{2, std::chrono::seconds{60}, {10ms, 20ms}};

}  // namespace

TEST_CASE("a crashed capability actor is restarted and the directory hands out the new one") {
  fixture fx;
  caf::scoped_actor self{fx.sys};
  auto toy = fx.start_toy(0, quick);
  auto first = await_handle(*toy.view, [](auto& h) { return h != nullptr; });
  auto epoch = toy.view->epoch(0);
  caf::anon_send(first, crash_atom::value);
  auto second = await_handle(*toy.view, [&](auto& h) { return h && h != first; });
  CHECK(toy.view->epoch(0) > epoch);  // callers see that the old handle is gone
  CHECK(*toy.spawns == 2);
  self->request(second, 5s, 21)
      .receive([](int x) { CHECK(x == 42); }, [](caf::error& e) { FAIL(to_string(e)); });
  self->request(toy.dir, 5s, lookup_atom::value, std::string("toy"), true)
      .receive(
          [&](caf::strong_actor_ptr& h) {
            CHECK(h == caf::actor_cast<caf::strong_actor_ptr>(second));
          },
          [](caf::error& e) { FAIL(to_string(e)); });
}

TEST_CASE("a capability that keeps crashing is given up and reported failed") {
  fixture fx;
  caf::scoped_actor self{fx.sys};
  auto toy = fx.start_toy(0, quick);
  auto current = await_handle(*toy.view, [](auto& h) { return h != nullptr; });
  for (int crash = 0; crash < 3; ++crash) {
    caf::anon_send(current, crash_atom::value);
    if (crash < 2) current = await_handle(*toy.view, [&](auto& h) { return h && h != current; });
  }
  // Two restarts allowed in the window: the third crash leaves it down.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  health_report report;
  do {
    report = health_of(self, toy.sup);
  } while (report.at(0).detail.find("restart intensity") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  REQUIRE(report.size() == 1);
  CHECK_FALSE(report[0].ok);
  INFO(report[0].detail);
  CHECK(report[0].detail.find("down: restart intensity exceeded") != std::string::npos);
  CHECK(*toy.spawns == 3);
  // The supervisor tells the directory asynchronously: wait for the view to say so.
  await_handle(*toy.view, [](auto& h) { return h == nullptr; });
  CHECK(test::eventually(
      [&] { return toy.view->why_unavailable(0).find("down") != std::string::npos; }, 5s, 2ms));
  self->request(toy.dir, 5s, lookup_atom::value, std::string("toy"), false)
      .receive([](caf::strong_actor_ptr&) { FAIL("a failed capability was handed out"); },
               [](caf::error& e) { CHECK(describe(e).status == 503); });
}

TEST_CASE("a start function that throws counts as a crash and is retried") {
  fixture fx;
  auto toy = fx.start_toy(1, quick);
  await_handle(*toy.view, [](auto& h) { return h != nullptr; });
  CHECK(*toy.spawns == 2);
}

namespace {

using child_atom = caf::atom_constant<caf::atom("child")>;

// A toy capability with a declared child ("store"): the entry answers (child_atom) with the
// child's current actor; the child answers ints and crashes on crash_atom.
start_function toy_with_child(caf::actor_system& sys, std::shared_ptr<std::atomic<int>> entries,
                              std::shared_ptr<std::atomic<int>> children) {
  return [&sys, entries, children](const supervise_function& supervise) {
    ++*entries;
    auto store = supervise("store", [&sys, children] {
      ++*children;
      return sys.spawn(
          [](caf::event_based_actor*, int offset) -> caf::behavior {
            return {
                [offset](int x) { return x + offset; },
                [](crash_atom) -> int { throw std::runtime_error("store broke"); },
            };
          },
          100);
    });
    return sys.spawn(
        [](caf::event_based_actor*, std::shared_ptr<child_ref> store) -> caf::behavior {
          return {
              [store](child_atom) { return store->get(); },
              [](crash_atom) -> int { throw std::runtime_error("entry broke"); },
              [](health_atom) {
                return health_report{{"toy", true, "ok"}};
              },
          };
        },
        store);
  };
}

caf::actor child_of(caf::scoped_actor& self, const caf::actor& entry) {
  caf::actor out;
  self->request(entry, 5s, child_atom::value)
      .receive([&](caf::actor& a) { out = a; }, [](caf::error&) {});
  return out;
}

// The toy capability with a child, under a supervisor, in a directory hosting it here; its
// entry once started, and how often the entry and the child were started.
struct toy_child_setup {
  std::shared_ptr<directory_view> view =
      std::make_shared<directory_view>(std::vector<std::string>{"toy"}, 100);
  std::shared_ptr<std::atomic<int>> entries = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<int>> children = std::make_shared<std::atomic<int>>(0);
  caf::actor entry;

  toy_child_setup(fixture& fx, const restart_policy& policy) {
    auto dir = fx.directory(view, {"toy"});
    fx.supervise(toy_with_child(fx.sys, entries, children), dir, policy);
    entry = await_handle(*view, [](auto& h) { return h != nullptr; });
  }
};

}  // namespace

TEST_CASE("one-for-one restarts a crashed child alone; its siblings get the new one") {
  fixture fx;
  caf::scoped_actor self{fx.sys};
  toy_child_setup toy{fx, quick};
  auto& view = toy.view;
  auto& entries = toy.entries;
  auto& children = toy.children;
  auto& entry = toy.entry;
  auto epoch = view->epoch(0);
  auto first = child_of(self, entry);
  REQUIRE(first);
  caf::anon_send(first, crash_atom::value);
  caf::actor second;
  REQUIRE(test::eventually(
      [&] {
        second = child_of(self, entry);
        return second && second != first;
      },
      5s, 2ms));
  self->request(second, 5s, 1)
      .receive([](int x) { CHECK(x == 101); }, [](caf::error& e) { FAIL(to_string(e)); });
  CHECK(*entries == 1);            // the entry kept running
  CHECK(*children == 2);           // the child started again
  CHECK(view->epoch(0) == epoch);  // callers of the capability saw nothing change
  CHECK(view->handle(0) == entry);
}

TEST_CASE("all-for-one restarts the whole capability when a child crashes") {
  fixture fx;
  caf::scoped_actor self{fx.sys};
  auto policy = quick;
  policy.strategy = supervision_settings::strategy_kind::all_for_one;
  toy_child_setup toy{fx, policy};
  auto& view = toy.view;
  auto& entries = toy.entries;
  auto& children = toy.children;
  auto& entry = toy.entry;
  auto first = child_of(self, entry);
  caf::anon_send(first, crash_atom::value);
  auto again = await_handle(*view, [&](auto& h) { return h && h != entry; });
  CHECK(*entries == 2);
  CHECK(*children == 2);
  auto child = child_of(self, again);
  CHECK(child);
  CHECK(child != first);
}

TEST_CASE("under one-for-one the entry's crash still restarts everything") {
  fixture fx;
  caf::scoped_actor self{fx.sys};
  toy_child_setup toy{fx, quick};
  auto& view = toy.view;
  auto& entries = toy.entries;
  auto& children = toy.children;
  auto& entry = toy.entry;
  auto first = child_of(self, entry);
  self->monitor(first);
  caf::anon_send(entry, crash_atom::value);
  await_handle(*view, [&](auto& h) { return h && h != entry; });
  // The old child was stopped, not left running beside the new one.
  bool down = false;
  self->receive([&](caf::down_msg& m) { down = m.source == first.address(); },
                caf::after(5s) >> [] {});
  CHECK(down);
  CHECK(*entries == 2);
  CHECK(*children == 2);
}

TEST_CASE("a capability given up on no longer holds its node's readiness back") {
  fixture fx;
  caf::scoped_actor self{fx.sys};
  auto view = std::make_shared<directory_view>(std::vector<std::string>{"toy", "other"}, 100);
  auto dir = fx.directory(view, {"toy", "other"});
  auto spawns = std::make_shared<std::atomic<int>>(0);
  auto zero = quick;
  zero.max_restarts = 0;
  auto toy = fx.supervise(toy_start(fx.sys, spawns, 0), dir, zero);
  auto other_spawns = std::make_shared<std::atomic<int>>(0);
  auto other = spawn_supervisor(fx.sys, "other", toy_start(fx.sys, other_spawns, 0), dir, zero);
  fx.actors.push_back(other);
  auto first = await_handle(*view, [](auto& h) { return h != nullptr; });
  REQUIRE(test::eventually([&] { return view->handle(1) != nullptr; }, 5s, 2ms));
  caf::anon_send(first, crash_atom::value);
  auto ready = [&] {
    readiness r;
    self->request(dir, 5s, ready_atom::value)
        .receive([&](readiness& x) { r = std::move(x); },
                 [](caf::error& e) { FAIL(to_string(e)); });
    return r;
  };
  REQUIRE(test::eventually(
      [&] {
        auto r = ready();
        for (auto& c : r.checks)
          if (c.name == "toy") return !c.ok && c.detail.find("down") != std::string::npos;
        return false;
      },
      5s, 2ms));
  CHECK(ready().ready);  // "other" still serves, and the node with it
  self->request(view->handle(1), 5s, 4)
      .receive([](int x) { CHECK(x == 8); }, [](caf::error& e) { FAIL(to_string(e)); });
}

TEST_CASE("readiness waits for local capabilities and reachable remote ones") {
  fixture fx;
  auto view = std::make_shared<directory_view>(std::vector<std::string>{"toy", "users"}, 100);
  test::refused_port nobody;  // connections there are refused
  auto dir = fx.directory(view, {"toy"}, {{"far", {"127.0.0.1", nobody.port()}, {"users"}}});
  caf::scoped_actor self{fx.sys};
  auto ready = [&] {
    readiness r;
    self->request(dir, 5s, ready_atom::value)
        .receive([&](readiness& x) { r = std::move(x); },
                 [](caf::error& e) { FAIL(to_string(e)); });
    return r;
  };
  auto before = ready();
  CHECK_FALSE(before.ready);
  REQUIRE(before.checks.size() == 2);
  auto spawns = std::make_shared<std::atomic<int>>(0);
  fx.supervise(toy_start(fx.sys, spawns, 0), dir, quick);
  await_handle(*view, [](auto& h) { return h != nullptr; });
  auto after = ready();
  CHECK_FALSE(after.ready);  // users@far is still unreachable
  for (auto& c : after.checks) {
    if (c.name == "toy") CHECK(c.ok);
    if (c.name == "users@far") {
      CHECK_FALSE(c.ok);
      CHECK(c.detail.find("far") != std::string::npos);
    }
  }
  // Callers read "unavailable, and why" from the view at once instead of waiting.
  CHECK_FALSE(view->handle(1));
  CHECK(view->why_unavailable(1).find("far") != std::string::npos);
}
