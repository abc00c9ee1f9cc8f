#include "runtime/cluster/supervisor.hpp"

#include <deque>

#include <caf/all.hpp>

#include "runtime/core/atoms.hpp"
#include "runtime/observability/log.hpp"

namespace troupe {

namespace {

struct supervisor_state {
  static inline const char* name = "troupe.supervisor";
  std::string capability;
  start_function start;
  caf::actor directory;
  restart_policy policy;
  give_up_handler on_give_up;
  caf::actor child;
  std::deque<std::chrono::steady_clock::time_point> restarts;
  std::string last_failure;
  bool failed = false;
  bool stopping = false;
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

void announce(supervisor_actor* self) {
  self->send(self->state.directory, register_atom::value, self->state.capability,
             caf::actor_cast<caf::strong_actor_ptr>(self->state.child));
}

void on_crash(supervisor_actor* self, const std::string& why) {
  auto& st = self->state;
  auto& name = st.capability;
  st.child = nullptr;
  st.last_failure = why;
  announce(self);
  auto now = std::chrono::steady_clock::now();
  while (!st.restarts.empty() && now - st.restarts.front() > st.policy.window)
    st.restarts.pop_front();
  if (static_cast<int>(st.restarts.size()) >= st.policy.max_restarts) {
    st.failed = true;
    log_error("supervisor", "capability '" + name + "' exceeded " +
                                std::to_string(st.policy.max_restarts) + " restarts in " +
                                std::to_string(st.policy.window.count()) + " s; giving up: " + why);
    if (st.on_give_up) st.on_give_up(name, why);
    return;
  }
  auto delay = backoff_delay(st.policy.backoff, static_cast<int>(st.restarts.size()));
  st.restarts.push_back(now);
  log_warn("supervisor", "capability '" + name + "' died (" + why + "); restarting in " +
                             std::to_string(delay.count()) + " ms");
  self->delayed_send(self, delay, restart_atom::value);
}

void start_child(supervisor_actor* self) {
  auto& st = self->state;
  try {
    st.child = st.start();
  } catch (const std::exception& e) {
    return on_crash(self, std::string("start failed: ") + e.what());
  }
  if (!st.child) return on_crash(self, "start failed: no actor");
  self->monitor(st.child);
  announce(self);
}

caf::behavior supervisor_behavior(supervisor_actor* self, std::string capability,
                                  start_function start, caf::actor directory, restart_policy policy,
                                  give_up_handler on_give_up) {
  auto& st = self->state;
  st.capability = std::move(capability);
  st.start = std::move(start);
  st.directory = std::move(directory);
  st.policy = policy;
  st.on_give_up = std::move(on_give_up);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.stopping || !st.child || msg.source != st.child.address()) return;
    on_crash(self, self->system().render(msg.reason));
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.stopping = true;
    if (self->state.child) self->send_exit(self->state.child, msg.reason);
    self->quit(msg.reason);
  });
  start_child(self);
  return {
      [self](restart_atom) {
        if (!self->state.stopping && !self->state.child) start_child(self);
      },
      [self](health_atom) -> caf::result<health_report> {
        auto& st = self->state;
        if (st.child) {
          auto rp = self->make_response_promise<health_report>();
          auto name = st.capability;
          self->request(st.child, std::chrono::seconds{2}, health_atom::value)
              .then([rp](health_report& report) mutable { rp.deliver(std::move(report)); },
                    [rp, name, self](caf::error& err) mutable {
                      rp.deliver(health_report{
                          {name, false, "no health answer: " + self->system().render(err)}});
                    });
          return rp;
        }
        auto detail = st.failed ? "failed, restart intensity exceeded: " + st.last_failure
                                : "restarting after: " + st.last_failure;
        return health_report{{st.capability, false, detail}};
      },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& system, std::string capability, start_function start,
                            caf::actor directory, restart_policy policy,
                            give_up_handler on_give_up) {
  return system.spawn(supervisor_behavior, std::move(capability), std::move(start),
                      std::move(directory), policy, std::move(on_give_up));
}

}  // namespace troupe
