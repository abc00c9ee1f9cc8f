#include "runtime/supervisor.hpp"

#include <deque>

#include <caf/all.hpp>

#include "runtime/atoms.hpp"
#include "runtime/log.hpp"

namespace troupe {

namespace {

struct supervisor_state {
  static inline const char* name = "troupe.supervisor";
  capability cap;
  capability_context ctx;
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
  self->send(self->state.ctx.directory, register_atom::value, self->state.cap.traits.name,
             caf::actor_cast<caf::strong_actor_ptr>(self->state.child));
}

void start_child(supervisor_actor* self);

void on_crash(supervisor_actor* self, const std::string& why) {
  auto& st = self->state;
  auto& name = st.cap.traits.name;
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
  auto delay = st.policy.backoff_min * (1LL << std::min<std::size_t>(st.restarts.size(), 16));
  delay = std::min<std::chrono::milliseconds>(delay, st.policy.backoff_max);
  st.restarts.push_back(now);
  log_warn("supervisor", "capability '" + name + "' died (" + why + "); restarting in " +
                             std::to_string(delay.count()) + " ms");
  self->delayed_send(self, delay, restart_atom::value);
}

void start_child(supervisor_actor* self) {
  auto& st = self->state;
  try {
    st.child = st.cap.spawn(st.ctx);
  } catch (const std::exception& e) {
    return on_crash(self, std::string("start failed: ") + e.what());
  }
  if (!st.child) return on_crash(self, "start failed: spawn returned no actor");
  self->monitor(st.child);
  announce(self);
}

caf::behavior supervisor_behavior(supervisor_actor* self, capability cap, capability_context ctx,
                                  restart_policy policy, give_up_handler on_give_up) {
  self->state.on_give_up = std::move(on_give_up);
  self->state.cap = std::move(cap);
  self->state.ctx = std::move(ctx);
  self->state.policy = policy;
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
          auto name = st.cap.traits.name;
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
        return health_report{{st.cap.traits.name, false, detail}};
      },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& system, const capability& cap,
                            capability_context ctx, restart_policy policy,
                            give_up_handler on_give_up) {
  return system.spawn(supervisor_behavior, cap, std::move(ctx), policy, std::move(on_give_up));
}

}  // namespace troupe
