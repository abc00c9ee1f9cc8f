// The supervisor and the directory on a real actor system: crashes, restarts, giving up,
// and readiness with an unreachable remote node.
#include <catch2/catch.hpp>

#include <atomic>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "runtime/atoms.hpp"
#include "runtime/directory.hpp"
#include "runtime/error.hpp"
#include "runtime/supervisor.hpp"
#include "tests/support/process.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

using crash_atom = caf::atom_constant<caf::atom("crash")>;

// A toy capability: doubles ints, throws on crash_atom; its first `fail_starts` spawns throw.
capability toy_capability(std::shared_ptr<std::atomic<int>> spawns, int fail_starts) {
  capability cap;
  cap.traits = {"toy", {}, false};
  cap.register_types = [](caf::actor_system_config&) {};
  cap.spawn = [spawns, fail_starts](const capability_context& ctx) {
    if (++*spawns <= fail_starts) throw std::runtime_error("disk on fire");
    // (spawned with an argument: CAF 0.17 trips UBSan on argument-less function actors)
    return ctx.system->spawn(
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
  return cap;
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

  caf::actor directory(std::vector<std::string> local, topology topo = {},
                       std::vector<std::string> remote = {}) {
    auto d = spawn_directory(sys, {"here", std::move(topo), std::move(local), std::move(remote)});
    actors.push_back(d);
    return d;
  }

  struct toy_setup {
    caf::actor dir, sup;
    std::shared_ptr<std::atomic<int>> spawns = std::make_shared<std::atomic<int>>(0);
  };

  // The toy capability under a supervisor, in a directory hosting it here; `self` is
  // subscribed to its handle.
  toy_setup start_toy(caf::scoped_actor& self, int fail_starts, restart_policy policy) {
    toy_setup toy;
    toy.dir = directory({"toy"});
    toy.sup = supervise(toy_capability(toy.spawns, fail_starts), toy.dir, policy);
    self->send(toy.dir, subscribe_atom::value, std::string("toy"));
    return toy;
  }

  caf::actor supervise(const capability& cap, caf::actor dir, restart_policy policy) {
    capability_context ctx;
    ctx.system = &sys;
    ctx.name = cap.traits.name;
    ctx.directory = dir;
    auto s = spawn_supervisor(sys, cap, ctx, policy);
    actors.push_back(s);
    return s;
  }
};

// Receives directory updates until `accept` holds for a handle, within 5 s.
caf::strong_actor_ptr await_update(caf::scoped_actor& self,
                                   std::function<bool(const caf::strong_actor_ptr&)> accept) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    caf::strong_actor_ptr got;
    bool matched = false;
    self->receive(
        [&](update_atom, const std::string&, const caf::strong_actor_ptr& h) {
          got = h;
          matched = accept(h);
        },
        caf::after(std::chrono::milliseconds{100}) >> [] {});
    if (matched) return got;
  }
  FAIL("no matching directory update within 5 s");
  return nullptr;
}

health_report health_of(caf::scoped_actor& self, caf::actor sup) {
  health_report out;
  self->request(sup, 5s, health_atom::value)
      .receive([&](health_report& r) { out = std::move(r); },
               [&](caf::error& e) { FAIL("no health answer: " << to_string(e)); });
  return out;
}

const restart_policy quick{2, std::chrono::seconds{60}, 10ms, 20ms};

}  // namespace

TEST_CASE("a crashed capability actor is restarted and the directory hands out the new one") {
  fixture fx;
  caf::scoped_actor self{fx.sys};
  auto toy = fx.start_toy(self, 0, quick);
  auto& dir = toy.dir;
  auto& spawns = toy.spawns;
  auto first = await_update(self, [](auto& h) { return h != nullptr; });
  caf::anon_send(caf::actor_cast<caf::actor>(first), crash_atom::value);
  auto second = await_update(self, [&](auto& h) { return h && h != first; });
  CHECK(*spawns == 2);
  self->request(caf::actor_cast<caf::actor>(second), 5s, 21)
      .receive([](int x) { CHECK(x == 42); }, [](caf::error& e) { FAIL(to_string(e)); });
  self->request(dir, 5s, lookup_atom::value, std::string("toy"))
      .receive([&](caf::strong_actor_ptr& h) { CHECK(h == second); },
               [](caf::error& e) { FAIL(to_string(e)); });
}

TEST_CASE("a capability that keeps crashing is given up and reported failed") {
  fixture fx;
  caf::scoped_actor self{fx.sys};
  auto toy = fx.start_toy(self, 0, quick);
  auto& dir = toy.dir;
  auto& spawns = toy.spawns;
  auto& sup = toy.sup;
  caf::strong_actor_ptr current = await_update(self, [](auto& h) { return h != nullptr; });
  for (int crash = 0; crash < 3; ++crash) {
    caf::anon_send(caf::actor_cast<caf::actor>(current), crash_atom::value);
    if (crash < 2) current = await_update(self, [&](auto& h) { return h && h != current; });
  }
  // Two restarts allowed in the window: the third crash leaves it down.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  health_report report;
  do {
    report = health_of(self, sup);
  } while (report.at(0).detail.find("failed") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  REQUIRE(report.size() == 1);
  CHECK_FALSE(report[0].ok);
  CHECK(report[0].detail.find("failed") != std::string::npos);
  CHECK(*spawns == 3);
  self->request(dir, 5s, lookup_atom::value, std::string("toy"))
      .receive([](caf::strong_actor_ptr&) { FAIL("a failed capability was handed out"); },
               [](caf::error& e) { CHECK(describe(e).status == 503); });
}

TEST_CASE("a spawn function that throws counts as a crash and is retried") {
  fixture fx;
  caf::scoped_actor self{fx.sys};
  auto toy = fx.start_toy(self, 1, quick);
  await_update(self, [](auto& h) { return h != nullptr; });
  CHECK(*toy.spawns == 2);
}

TEST_CASE("readiness waits for local capabilities and reachable remote ones") {
  fixture fx;
  topology topo;
  node_spec far;
  far.name = "far";
  far.listen = address{"127.0.0.1", test::free_port()};  // nobody listens there
  far.capabilities = {"users"};
  topo.nodes["far"] = far;
  auto dir = fx.directory({"toy"}, topo, {"users"});
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
  fx.supervise(toy_capability(spawns, 0), dir, quick);
  self->send(dir, subscribe_atom::value, std::string("toy"));
  await_update(self, [](auto& h) { return h != nullptr; });
  auto after = ready();
  CHECK_FALSE(after.ready);  // users@far is still unreachable
  for (auto& c : after.checks) {
    if (c.name == "toy") CHECK(c.ok);
    if (c.name == "users@far") {
      CHECK_FALSE(c.ok);
      CHECK(c.detail.find("far") != std::string::npos);
    }
  }
  // Calls to the unreachable capability fail at once instead of waiting for a timeout.
  auto started = std::chrono::steady_clock::now();
  self->request(dir, 5s, lookup_atom::value, std::string("users"))
      .receive([](caf::strong_actor_ptr&) { FAIL("handed out an unreachable capability"); },
               [](caf::error& e) { CHECK(describe(e).code == "unavailable"); });
  CHECK(std::chrono::steady_clock::now() - started < 1s);
}
