// A capability call (users get_user, through the real users actors and SQLite store)
// in-process and across two nodes on loopback, beside bare CAF request/response (an echo
// actor) measured in the same run, at 1 and at 64 requests in flight.
//
//   bench_capability_call [--seconds N] [--troupe PATH]
// The remote side runs as real processes: `troupe run` hosting users, and this binary
// with --serve-echo PORT for the bare remote baseline.
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/gateway/gateway.hpp"
#include "actors/users/users_protocol.hpp"
#include "runtime/calls/caller.hpp"
#include "runtime/cluster/directory.hpp"
#include "runtime/node/node.hpp"
#include "tests/support/process.hpp"

using namespace std::chrono;
using namespace troupe;

namespace {

using stop_atom = caf::atom_constant<caf::atom("stop")>;

std::vector<capability> all_capabilities() {
  return {users::users_capability(), gateway::gateway_capability()};
}

struct bench_config : caf::actor_system_config {
  bench_config() { configure_node_system(*this, all_capabilities()); }
};

struct result {
  double per_second = 0;
  double p50_us = 0, p99_us = 0;
};

// What every driver keeps: the latencies of calls started in the measuring window.
struct driver_state {
  std::vector<std::int64_t> latencies_ns;
  steady_clock::time_point measure_from, measure_until;
  int outstanding = 0;
  std::function<void()> fire;
  caf::actor report_to;
};

// A call started at `started` was answered: record it, keep the loop going until the window
// closes, then report.
template <class Self>
void answered(Self* self, steady_clock::time_point started) {
  driver_state& st = self->state;
  --st.outstanding;
  auto now = steady_clock::now();
  if (started >= st.measure_from && now <= st.measure_until)
    st.latencies_ns.push_back(duration_cast<nanoseconds>(now - started).count());
  if (now < st.measure_until) return st.fire();
  if (st.outstanding == 0) {
    self->send(st.report_to, std::move(st.latencies_ns));
    self->quit();
  }
}

// Keeps `inflight` requests going; records latencies of those started in the measuring window.
template <class Handle, class Message, class Reply>
caf::behavior driver(caf::stateful_actor<driver_state>* self, Handle target, Message msg,
                     int inflight, milliseconds warmup, milliseconds window, caf::actor report_to) {
  auto& st = self->state;
  st.report_to = report_to;
  st.measure_from = steady_clock::now() + warmup;
  st.measure_until = st.measure_from + window;
  st.fire = [self, target, msg] {
    auto started = steady_clock::now();
    ++self->state.outstanding;
    self->request(target, seconds{10}, msg)
        .then([self, started](Reply&) { answered(self, started); },
              [self](caf::error& err) {
                std::fprintf(stderr, "request failed: %s\n", self->system().render(err).c_str());
                self->quit(err);
              });
  };
  for (int i = 0; i < inflight; ++i) st.fire();
  return {[](stop_atom) {}};
}

struct caller_driver_state : driver_state {
  std::unique_ptr<calls::caller> calls;
  calls::callee users;
};

// The same loop as `driver`, but every call goes through a runtime caller (directory view,
// call context, in-flight bound, deadline bookkeeping), as the gateway and sagas make them.
caf::behavior caller_driver(caf::stateful_actor<caller_driver_state>* self,
                            std::shared_ptr<directory_view> view, users::get_user msg, int inflight,
                            milliseconds warmup, milliseconds window, caf::actor report_to) {
  auto& st = self->state;
  st.calls = std::make_unique<calls::caller>(self, view, "bench");
  st.users = st.calls->resolve("users");
  st.report_to = report_to;
  st.measure_from = steady_clock::now() + warmup;
  st.measure_until = st.measure_from + window;
  st.fire = [self, msg] {
    auto started = steady_clock::now();
    ++self->state.outstanding;
    calls::call_options options;
    options.deadline = self->clock().now() + seconds{10};
    self->state.calls->call<users::user>(
        self->state.users, msg, options, [self, started](users::user&) { answered(self, started); },
        [self](const caf::error& err) {
          std::fprintf(stderr, "call failed: %s\n", self->system().render(err).c_str());
          self->quit(err);
        });
  };
  for (int i = 0; i < inflight; ++i) st.fire();
  return {[self](calls::tick_atom) { self->state.calls->tick(); }};
}

result collect(caf::scoped_actor& self, milliseconds window) {
  result r;
  self->receive(
      [&](std::vector<std::int64_t>& lat) {
        std::sort(lat.begin(), lat.end());
        r.per_second = static_cast<double>(lat.size()) / duration<double>(window).count();
        if (!lat.empty()) {
          r.p50_us = static_cast<double>(lat[lat.size() / 2]) / 1000.0;
          r.p99_us = static_cast<double>(lat[lat.size() * 99 / 100]) / 1000.0;
        }
      },
      caf::after(window + seconds{30}) >> [] { std::fprintf(stderr, "driver did not report\n"); });
  return r;
}

result measure_caller(caf::actor_system& sys, std::shared_ptr<directory_view> view,
                      users::get_user msg, int inflight, milliseconds window) {
  caf::scoped_actor self{sys};
  sys.spawn(caller_driver, view, msg, inflight, milliseconds{500}, window, caf::actor{self});
  return collect(self, window);
}

template <class Handle, class Message, class Reply>
result measure(caf::actor_system& sys, Handle target, Message msg, int inflight,
               milliseconds window) {
  caf::scoped_actor self{sys};
  sys.spawn(driver<Handle, Message, Reply>, target, msg, inflight, milliseconds{500}, window,
            caf::actor{self});
  return collect(self, window);
}

// (takes an argument: CAF 0.17 trips UBSan on argument-less function actors)
caf::behavior echo(caf::event_based_actor*, std::int64_t add) {
  return {[add](std::int64_t x) { return x + add; }};
}

std::string self_path() {
  char path[4096];
  auto n = readlink("/proc/self/exe", path, sizeof path - 1);
  path[n < 0 ? 0 : n] = 0;
  return path;
}

void print_row(const char* name, int inflight, const result& r, const result& base) {
  std::printf("%-34s %4d %12.0f %10.1f %10.1f %8.2fx\n", name, inflight, r.per_second, r.p50_us,
              r.p99_us, r.per_second / base.per_second);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--serve-echo") == 0) {
    bench_config cfg;
    caf::actor_system sys{cfg};
    auto port =
        sys.middleman().publish(sys.spawn(echo, std::int64_t{0}),
                                static_cast<std::uint16_t>(std::stoi(argv[2])), "127.0.0.1", true);
    if (!port) return 1;
    std::printf("ready\n");
    std::fflush(stdout);
    pause();
    return 0;
  }
  int seconds_per_run = 3;
  std::string troupe_path = "./build-bench/troupe";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds_per_run = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--troupe") == 0) troupe_path = argv[i + 1];
  }
  milliseconds window{seconds_per_run * 1000};
  test::temp_dir dir;

  // Remote side: a troupe node hosting users, and a bare echo actor in another process.
  // (Fixed ports picked just before use: a benchmark, not a test; a lost race fails loudly.)
  auto users_port = test::free_port(), echo_port = test::free_port();
  dir.write("t.json", R"({"data_dir": ")" + dir.path() +
                          R"(", "nodes": {"core": {"listen": "127.0.0.1:)" +
                          std::to_string(users_port) + R"(", "capabilities": ["users"]}}})");
  test::child_process core{{troupe_path, "run", "--topology", dir.file("t.json"), "--node", "core"},
                           "",
                           dir.file("core")};
  test::child_process echo_proc{
      {self_path(), "--serve-echo", std::to_string(echo_port)}, "", dir.file("echo")};
  core.wait_for_line("troupe: ready", seconds{30});
  echo_proc.wait_for_line("ready", seconds{30});

  {  // the bench's own actor system goes first, so that core can shut down cleanly
    bench_config cfg;
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    auto local_echo = sys.spawn(echo, std::int64_t{0});
    auto remote_echo = sys.middleman().remote_actor("127.0.0.1", echo_port);
    auto local_users = users::spawn_users(sys, {dir.file("local-users.db"), true, 10000, {}});
    auto uncached_users = users::spawn_users(sys, {dir.file("uncached-users.db"), true, 0, {}});
    // Remote users through the runtime's directory, as a node would reach it.
    auto remote_view = std::make_shared<directory_view>(std::vector<std::string>{"users"}, 1 << 20);
    auto directory = spawn_directory(
        sys, {"bench", {}, {{"core", {"127.0.0.1", users_port}, {"users"}}}, remote_view, nullptr});
    while (!remote_view->handle(0)) std::this_thread::sleep_for(milliseconds{5});
    auto remote_users = caf::actor_cast<users::users_actor>(remote_view->handle(0));
    auto local_view = std::make_shared<directory_view>(std::vector<std::string>{"users"}, 1 << 20);
    local_view->set(0, caf::actor_cast<caf::actor>(local_users), "");
    auto ctx = make_call_context("bench", hours{24});
    for (auto target : {local_users, uncached_users, remote_users})
      self->request(target, seconds{5},
                    users::create_user{ctx, "bench", "Bench", "bench@example.com"})
          .receive([](users::user&) {}, [](caf::error&) {});
    users::get_user get{ctx, "bench"};

    std::printf("capability call benchmark: %d s per run after 0.5 s warm-up, %u cores\n",
                seconds_per_run, std::thread::hardware_concurrency());
    std::printf("%-34s %4s %12s %10s %10s %9s\n", "what", "infl", "calls/s", "p50 us", "p99 us",
                "vs bare");
    for (int inflight : {1, 64}) {
      auto bare_local =
          measure<caf::actor, std::int64_t, std::int64_t>(sys, local_echo, 1, inflight, window);
      print_row("bare CAF echo, in-process", inflight, bare_local, bare_local);
      auto cap_local = measure<users::users_actor, users::get_user, users::user>(
          sys, local_users, get, inflight, window);
      print_row("users.get, in-process (cached)", inflight, cap_local, bare_local);
      auto via_caller = measure_caller(sys, local_view, get, inflight, window);
      print_row("  the same through the caller", inflight, via_caller, bare_local);
      auto cap_store = measure<users::users_actor, users::get_user, users::user>(
          sys, uncached_users, get, inflight, window);
      print_row("users.get, in-process, cache off", inflight, cap_store, bare_local);
      auto bare_remote =
          measure<caf::actor, std::int64_t, std::int64_t>(sys, *remote_echo, 1, inflight, window);
      print_row("bare CAF echo, two nodes", inflight, bare_remote, bare_remote);
      auto cap_remote = measure<users::users_actor, users::get_user, users::user>(
          sys, remote_users, get, inflight, window);
      print_row("users.get, two nodes", inflight, cap_remote, bare_remote);
      auto remote_caller = measure_caller(sys, remote_view, get, inflight, window);
      print_row("  the same through the caller", inflight, remote_caller, bare_remote);
    }
    std::fflush(stdout);
    self->send_exit(directory, caf::exit_reason::user_shutdown);
    self->send_exit(local_users, caf::exit_reason::user_shutdown);
    self->send_exit(uncached_users, caf::exit_reason::user_shutdown);
    self->send_exit(local_echo, caf::exit_reason::user_shutdown);
  }
  core.signal(SIGTERM);
  core.wait(seconds{30});
  return 0;
}
