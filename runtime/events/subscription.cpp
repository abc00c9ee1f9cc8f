#include "runtime/events/subscription.hpp"

#include <optional>

#include <caf/all.hpp>

#include "runtime/calls/caller.hpp"
#include "runtime/core/call_context.hpp"
#include "runtime/observability/log.hpp"

namespace troupe::events {

namespace {

using resume_atom = caf::atom_constant<caf::atom("subresume")>;

struct subscription_state {
  static inline const char* name = "troupe.subscription";
  subscription_config cfg;
  std::optional<calls::caller> calls;
  calls::callee producer;
  std::int64_t offset = -1;  // -1: ask the sink first
  int failures = 0;
  std::string last_problem;
};

using subscription_actor = caf::stateful_actor<subscription_state>;

void pull(subscription_actor* self);

void retry_later(subscription_actor* self, const std::string& problem) {
  auto& st = self->state;
  if (problem != st.last_problem || st.failures % 20 == 0)
    log_warn("events", "subscription '" + st.cfg.name + "': " + problem + "; retrying");
  st.last_problem = problem;
  st.offset = -1;  // the sink's offset is the truth; re-read it
  self->delayed_send(self, backoff_delay(st.cfg.retry, std::min(st.failures++, 16)),
                     resume_atom::value);
}

void apply_page(subscription_actor* self, events_page& page) {
  auto& st = self->state;
  if (page.events.empty()) {
    if (st.cfg.on_progress) st.cfg.on_progress(st.offset, page.last_offset);
    return pull(self);
  }
  auto newest = page.last_offset;
  bool full = page.events.size() >= static_cast<std::size_t>(st.cfg.page);
  self->request(st.cfg.sink, std::chrono::seconds{30},
                apply_events{st.cfg.name, std::move(page.events)})
      .then(
          [self, newest, full](std::int64_t offset) {
            auto& st = self->state;
            st.offset = offset;
            st.failures = 0;
            st.last_problem.clear();
            if (st.cfg.on_progress) st.cfg.on_progress(offset, newest);
            // Behind by a full page: catch up at once; otherwise let the next page gather.
            if (full || st.cfg.gather.count() <= 0) return pull(self);
            self->delayed_send(self, st.cfg.gather, resume_atom::value);
          },
          [self](caf::error& err) {
            retry_later(self, "applying events failed: " + self->system().render(err));
          });
}

void pull(subscription_actor* self) {
  auto& st = self->state;
  if (st.offset < 0) {
    self->request(st.cfg.sink, std::chrono::seconds{30}, inbox_atom::value, st.cfg.name)
        .then(
            [self](std::int64_t offset) {
              self->state.offset = offset;
              pull(self);
            },
            [self](caf::error& err) {
              retry_later(self, "reading the inbox offset failed: " + self->system().render(err));
            });
    return;
  }
  pull_events msg{{}, st.offset, st.cfg.page, static_cast<std::int32_t>(st.cfg.wait.count())};
  auto deadline = self->clock().now() + st.cfg.wait + std::chrono::seconds{5};
  auto on_error = [self](const caf::error& err) {
    retry_later(self, "pulling events failed: " + self->system().render(err));
  };
  if (st.cfg.local_source) {
    msg.ctx.caller = st.cfg.subscriber;
    msg.ctx.deadline = deadline;
    self->request(st.cfg.local_source, deadline - self->clock().now(), std::move(msg))
        .then([self](events_page& page) { apply_page(self, page); },
              [on_error](caf::error& err) { on_error(err); });
    return;
  }
  calls::call_options opts;
  opts.deadline = deadline;
  st.calls->call<events_page>(
      st.producer, std::move(msg), std::move(opts),
      [self](events_page& page) { apply_page(self, page); }, on_error);
}

caf::behavior subscription_behavior(subscription_actor* self, subscription_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  if (!st.cfg.local_source) {
    st.calls.emplace(self, st.cfg.view, st.cfg.subscriber);
    st.producer = st.calls->resolve(st.cfg.producer);
  }
  pull(self);
  return {
      [self](resume_atom) { pull(self); },
      [self](calls::tick_atom) {
        if (self->state.calls) self->state.calls->tick();
      },
  };
}

}  // namespace

caf::actor spawn_subscription(caf::actor_system& system, subscription_config config) {
  return system.spawn(subscription_behavior, std::move(config));
}

void register_event_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<event_envelope>("troupe.event");
  cfg.add_message_type<std::vector<event_envelope>>("troupe.event_list");
  cfg.add_message_type<pull_events>("troupe.pull_events");
  cfg.add_message_type<events_page>("troupe.events_page");
  cfg.add_message_type<apply_events>("troupe.apply_events");
}

}  // namespace troupe::events
