#include "runtime/supervision/supervisor.hpp"

#include <deque>
#include <vector>

#include <caf/all.hpp>

#include "runtime/core/atoms.hpp"
#include "runtime/observability/log.hpp"
#include "runtime/observability/metrics.hpp"

namespace troupe {

namespace {

using child_restart_atom = caf::atom_constant<caf::atom("chrestart")>;

struct child {
  std::string name;
  std::function<caf::actor()> start;
  std::shared_ptr<child_ref> ref;
  caf::actor current;
};

struct supervisor_state {
  static inline const char* name = "troupe.supervisor";
  std::string capability;
  start_function start;
  caf::actor directory;
  supervision_settings settings;
  give_up_handler on_give_up;
  supervision_metrics stats;
  caf::actor entry;
  std::vector<child> children;   // declared by the entry's start, in order
  std::uint64_t generation = 0;  // of the current start: stale restart timers are ignored
  std::deque<std::chrono::steady_clock::time_point> restarts;
  int restarts_total = 0;
  std::string last_failure;
  bool failed = false;
  bool stopping = false;
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

void announce(supervisor_actor* self) {
  self->send(self->state.directory, register_atom::value, self->state.capability,
             caf::actor_cast<caf::strong_actor_ptr>(self->state.entry));
}

// Stops every actor of the capability; their down messages are ignored from now on (they
// are no longer current).
void stop_all(supervisor_actor* self) {
  auto& st = self->state;
  for (auto it = st.children.rbegin(); it != st.children.rend(); ++it) {
    if (it->current) self->send_exit(it->current, caf::exit_reason::kill);
    it->current = nullptr;
    it->ref->set(nullptr);
  }
  if (st.entry) self->send_exit(st.entry, caf::exit_reason::kill);
  st.entry = nullptr;
  st.children.clear();
}

// Counts a restart against the intensity; false (and the capability given up) past it.
bool may_restart(supervisor_actor* self, const std::string& what, const std::string& why,
                 std::chrono::milliseconds& delay) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  while (!st.restarts.empty() && now - st.restarts.front() > st.settings.window)
    st.restarts.pop_front();
  if (static_cast<int>(st.restarts.size()) >= st.settings.max_restarts) {
    st.failed = true;
    stop_all(self);
    announce(self);
    // The node hears of it before the directory stops counting it against readiness, so a
    // node still starting cannot become ready in between and keep serving without it.
    if (st.on_give_up) st.on_give_up(st.capability, what + " failed: " + why);
    self->send(st.directory, given_up_atom::value, st.capability, why);
    st.stats.up(false);
    log_error("supervisor", "capability '" + st.capability + "' exceeded " +
                                std::to_string(st.settings.max_restarts) + " restarts in " +
                                std::to_string(st.settings.window.count()) +
                                " ms; it is down: " + what + " failed: " + why);
    return false;
  }
  delay = backoff_delay(st.settings.backoff, static_cast<int>(st.restarts.size()));
  st.restarts.push_back(now);
  ++st.restarts_total;
  return true;
}

void start_all(supervisor_actor* self);

// The entry crashed, or any actor under all-for-one: everything goes and starts again.
void restart_all(supervisor_actor* self, const std::string& what, const std::string& why) {
  auto& st = self->state;
  st.last_failure = what + ": " + why;
  stop_all(self);
  announce(self);
  ++st.generation;
  std::chrono::milliseconds delay{0};
  if (!may_restart(self, what, why, delay)) return;
  st.stats.restarted("all");
  log_warn("supervisor", "capability '" + st.capability + "': " + what + " died (" + why +
                             "); restarting all of it in " + std::to_string(delay.count()) + " ms");
  self->delayed_send(self, delay, restart_atom::value, st.generation);
}

void restart_child(supervisor_actor* self, std::size_t index, const std::string& why) {
  auto& st = self->state;
  auto& c = st.children[index];
  st.last_failure = c.name + ": " + why;
  c.current = nullptr;
  c.ref->set(nullptr);
  std::chrono::milliseconds delay{0};
  if (!may_restart(self, c.name, why, delay)) return;
  st.stats.restarted(c.name);
  log_warn("supervisor", "capability '" + st.capability + "': " + c.name + " died (" + why +
                             "); restarting it alone in " + std::to_string(delay.count()) + " ms");
  self->delayed_send(self, delay, child_restart_atom::value, st.generation,
                     static_cast<std::uint64_t>(index));
}

// Spawns child `index` (again); a start that throws counts as a crash.
void spawn_child(supervisor_actor* self, std::size_t index) {
  auto& st = self->state;
  auto& c = st.children[index];
  try {
    c.current = c.start();
  } catch (const std::exception& e) {
    return restart_child(self, index, std::string("start failed: ") + e.what());
  }
  if (!c.current) return restart_child(self, index, "start failed: no actor");
  self->monitor(c.current);
  c.ref->set(c.current);
}

void start_all(supervisor_actor* self) {
  auto& st = self->state;
  supervise_function supervise = [self](const std::string& name,
                                        std::function<caf::actor()> start) {
    auto& st = self->state;
    st.children.push_back({name, std::move(start), std::make_shared<child_ref>(name), nullptr});
    auto index = st.children.size() - 1;
    auto ref = st.children[index].ref;
    auto& c = st.children[index];
    // Here a throwing start propagates: the capability's start fails as a whole.
    c.current = c.start();
    if (!c.current) throw std::runtime_error("child '" + name + "' started no actor");
    self->monitor(c.current);
    c.ref->set(c.current);
    return ref;
  };
  try {
    st.entry = st.start(supervise);
  } catch (const std::exception& e) {
    return restart_all(self, "start", e.what());
  }
  if (!st.entry) return restart_all(self, "start", "no entry actor");
  self->monitor(st.entry);
  announce(self);
}

caf::behavior supervisor_behavior(supervisor_actor* self, std::string capability,
                                  start_function start, caf::actor directory,
                                  supervision_settings settings, give_up_handler on_give_up,
                                  metrics* sink) {
  auto& st = self->state;
  st.capability = std::move(capability);
  st.start = std::move(start);
  st.directory = std::move(directory);
  st.settings = settings;
  st.on_give_up = std::move(on_give_up);
  if (sink) st.stats = sink->for_capability(st.capability);
  st.stats.up(true);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.stopping || st.failed) return;
    auto why = self->system().render(msg.reason);
    if (st.entry && msg.source == st.entry.address()) return restart_all(self, "entry", why);
    for (std::size_t i = 0; i < st.children.size(); ++i) {
      auto& c = st.children[i];
      if (!c.current || msg.source != c.current.address()) continue;
      if (st.settings.strategy == supervision_settings::strategy_kind::all_for_one)
        return restart_all(self, c.name, why);
      return restart_child(self, i, why);
    }
    // An actor that is no longer current (stopped by a restart): nothing to do.
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.stopping = true;
    stop_all(self);
    self->quit(msg.reason);
  });
  start_all(self);
  return {
      [self](restart_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (st.stopping || st.failed || generation != st.generation || st.entry) return;
        start_all(self);
      },
      [self](child_restart_atom, std::uint64_t generation, std::uint64_t index) {
        auto& st = self->state;
        if (st.stopping || st.failed || generation != st.generation ||
            index >= st.children.size() || st.children[index].current)
          return;
        spawn_child(self, index);
      },
      [self](drain_atom, std::int64_t within_ms) -> caf::result<bool> {
        auto& st = self->state;
        if (!st.entry) return true;
        auto rp = self->make_response_promise<bool>();
        self->request(st.entry, std::chrono::milliseconds{within_ms}, drain_atom::value)
            .then([rp](bool) mutable { rp.deliver(true); },
                  // Nothing to drain (the entry does not know the message), or time is up.
                  [rp](caf::error&) mutable { rp.deliver(true); });
        return rp;
      },
      [self](health_atom) -> caf::result<health_report> {
        auto& st = self->state;
        std::string restarted;
        if (st.restarts_total > 0)
          restarted =
              "; " + std::to_string(st.restarts_total) + " restarts, last after " + st.last_failure;
        if (st.entry) {
          auto rp = self->make_response_promise<health_report>();
          auto name = st.capability;
          // A child restarting alone: the capability is up but cannot do all it should.
          std::string restarting;
          for (auto& c : st.children)
            if (!c.current) restarting += (restarting.empty() ? "" : ", ") + c.name;
          self->request(st.entry, std::chrono::seconds{2}, health_atom::value)
              .then(
                  [rp, restarted, restarting](health_report& report) mutable {
                    if (!report.empty()) {
                      auto& check = report.front();
                      if (!restarting.empty()) {
                        check.ok = false;
                        check.detail += "; restarting: " + restarting;
                      }
                      check.detail += restarted;
                    }
                    rp.deliver(std::move(report));
                  },
                  [rp, name, self](caf::error& err) mutable {
                    rp.deliver(health_report{
                        {name, false, "no health answer: " + self->system().render(err)}});
                  });
          return rp;
        }
        auto detail = st.failed ? "down: restart intensity exceeded (" +
                                      std::to_string(st.settings.max_restarts) + " in " +
                                      std::to_string(st.settings.window.count()) +
                                      " ms); last failure: " + st.last_failure
                                : "restarting after: " + st.last_failure;
        return health_report{{st.capability, false, detail}};
      },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& system, std::string capability, start_function start,
                            caf::actor directory, supervision_settings settings,
                            give_up_handler on_give_up, metrics* sink) {
  return system.spawn(supervisor_behavior, std::move(capability), std::move(start),
                      std::move(directory), settings, std::move(on_give_up), sink);
}

supervision_settings read_supervision_settings(settings_reader& r) {
  supervision_settings out;
  auto strategy = r.text("strategy", 32, "one_for_one");
  if (strategy == "all_for_one")
    out.strategy = supervision_settings::strategy_kind::all_for_one;
  else if (strategy != "one_for_one")
    throw settings_error(r.path_of("strategy"), "must be \"one_for_one\" or \"all_for_one\"");
  out.max_restarts = static_cast<int>(r.integer("max_restarts", 0, 1000, out.max_restarts));
  out.window = r.milliseconds("window_ms", 1, 86'400'000, out.window.count());
  out.backoff.min = r.milliseconds("backoff_min_ms", 0, 3'600'000, out.backoff.min.count());
  out.backoff.max = r.milliseconds("backoff_max_ms", 0, 3'600'000, out.backoff.max.count());
  if (out.backoff.max < out.backoff.min)
    throw settings_error(r.path_of("backoff_max_ms"), "must be at least backoff_min_ms");
  auto give_up = r.text("on_give_up", 32, "isolate");
  if (give_up == "exit_node")
    out.on_give_up = supervision_settings::give_up_kind::exit_node;
  else if (give_up != "isolate")
    throw settings_error(r.path_of("on_give_up"), "must be \"isolate\" or \"exit_node\"");
  r.finish();
  return out;
}

}  // namespace troupe
