#include "runtime/saga/saga.hpp"

#include <algorithm>
#include <optional>

#include <caf/all.hpp>

#include "runtime/core/error.hpp"
#include "runtime/core/failpoint.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"
#include "runtime/observability/log.hpp"

namespace troupe::saga {

namespace {

using retry_atom_t = caf::atom_constant<caf::atom("sagaretry")>;
using log_retry_atom = caf::atom_constant<caf::atom("sagalog")>;

struct saga_state {
  static inline const char* name = "troupe.saga";
  host h;
  std::shared_ptr<const definition> def;
  saga_record record;
  json data;
  trace_parent trace;       // the instance's own span: steps hang under it
  std::string parent_span;  // the call that started it
  std::optional<calls::caller> calls;
  saga_metrics stats;
  std::uint64_t token = 0;  // of the attempt in flight
  bool stuck = false;       // counted in the stuck gauge
  // Some attempt of the current forward step may have had its effect: it was answered with
  // something else than `unavailable` (which means not sent, or refused before any work).
  bool step_maybe_done = false;
  std::vector<caf::response_promise> awaiting;
  std::optional<result> final;
  bool answered = false;  // awaiting callers got the (certain) outcome before the end
  int log_failures = 0;
  std::function<void()> after_log;  // what waits for a log write that is being retried
  // Resumed: the reach of the row resumed from, until the run passes it (-1: none). Steps up
  // to it may have been sent before the crash.
  std::int32_t sent_before_crash = -1;
};

using saga_actor = caf::stateful_actor<saga_state>;

void on_step_done(saga_actor* self, std::uint64_t attempt, std::optional<caf::error> err,
                  json result);

// One attempt. Ends once; later calls are ignored (a handler that fires twice cannot move
// the saga twice).
class attempt_context final : public step_context,
                              public std::enable_shared_from_this<attempt_context> {
 public:
  attempt_context(saga_actor* self, std::uint64_t token, const json& data, std::string key,
                  int attempt, calls::caller& calls, calls::call_options options,
                  tracing::active_span span)
      : self_(self),
        token_(token),
        data_(data),
        key_(std::move(key)),
        attempt_(attempt),
        calls_(calls),
        options_(std::move(options)),
        span_(std::move(span)) {
    options_.trace = span_.as_parent();  // the step's calls hang under its span
  }

  const json& data() const override { return data_; }
  const std::string& key() const override { return key_; }
  int attempt() const override { return attempt_; }
  calls::caller& calls() override { return calls_; }
  calls::call_options options() const override { return options_; }
  void succeed(json result) override {
    if (ended_) return;
    ended_ = true;
    span_.end();
    on_step_done(self_, token_, std::nullopt, std::move(result));
  }
  void fail(const caf::error& err) override {
    if (ended_) return;
    ended_ = true;
    span_.fail(err ? describe(err).message : "failed without a reason");
    span_.end();
    on_step_done(self_, token_, err ? err : make_error(errc::internal, "failed without a reason"),
                 {});
  }

 protected:
  std::shared_ptr<step_context> shared() override { return shared_from_this(); }

 private:
  saga_actor* self_;
  std::uint64_t token_;
  const json& data_;
  std::string key_;
  int attempt_;
  calls::caller& calls_;
  calls::call_options options_;
  tracing::active_span span_;
  bool ended_ = false;
};

const step& current(saga_actor* self) {
  return self->state.def->steps.at(static_cast<std::size_t>(self->state.record.step));
}

std::string render(saga_actor* self, const caf::error& err) {
  auto info = describe(err);
  return std::string(info.name) + ": " +
         (info.message.empty() ? self->system().render(err) : info.message);
}

// The furthest step a row written before step `at` covers: `at` and the pipelined steps
// right after it, or further while a resumed run has not passed what it may have sent.
std::int32_t reach_of(saga_actor* self, std::int32_t at) {
  auto& st = self->state;
  auto& steps = st.def->steps;
  auto reach = at;
  while (static_cast<std::size_t>(reach) + 1 < steps.size() &&
         steps[static_cast<std::size_t>(reach) + 1].pipelined)
    ++reach;
  return std::max(reach, st.sent_before_crash);
}

// Writes the log row, then runs `next`. The saga cannot move without its log: a failed write
// is retried until the store takes it.
void persist(saga_actor* self, std::function<void()> next) {
  auto& st = self->state;
  st.record.reach =
      st.record.state == state_running ? reach_of(self, st.record.step) : st.record.step;
  st.record.data = st.data.dump();
  st.record.updated_at_ms = unix_now_ms();
  self->request(st.h.store, caf::infinite, save_saga{st.record})
      .then(
          [self, next](bool) {
            self->state.log_failures = 0;
            next();
          },
          [self, next](caf::error& err) {
            auto& st = self->state;
            log_error("saga", "saga " + st.record.id + ": writing its log failed (" +
                                  self->system().render(err) + "); retrying");
            st.after_log = next;
            auto delay = backoff_delay(st.def->retry, std::min(st.log_failures++, 10));
            self->delayed_send(self, delay, log_retry_atom::value);
          });
}

void run_current(saga_actor* self);

// The instance's span, once it is over: from its creation (before a crash and restart too)
// to now.
void trace_instance(saga_actor* self) {
  auto& st = self->state;
  if (!st.trace.sampled || !tracing::enabled()) return;
  tracing::span s;
  s.trace_id = st.trace.trace_id;
  s.span_id = st.trace.span_id;
  s.parent_span_id = st.parent_span;
  s.trace_state = st.trace.state;
  s.name = "saga " + st.def->name;
  s.service = st.h.capability;
  s.start_ns = st.record.created_at_ms * 1'000'000;
  s.end_ns = tracing::unix_now_ns();
  s.attributes = {{"saga.definition", st.def->name},
                  {"saga.id", st.record.id},
                  {"saga.outcome", st.record.outcome}};
  if (st.def->span_attributes)
    for (auto& attribute : st.def->span_attributes(st.data)) s.attributes.push_back(attribute);
  if (st.record.outcome != "completed") {
    s.error = true;
    auto failure = st.data.find("failure");
    s.status_message = failure != st.data.end() && failure->is_object()
                           ? failure->value("message", std::string("compensated"))
                           : std::string("compensated");
  }
  tracing::record(std::move(s));
}

void finish(saga_actor* self, const char* outcome) {
  auto& st = self->state;
  st.record.state = state_done;
  st.record.outcome = outcome;
  st.record.last_error.clear();
  auto failure = st.data.contains("failure") ? st.data["failure"] : json(nullptr);
  st.record.reply = st.def->reply ? st.def->reply(st.data, failure).dump() : "{}";
  persist(self, [self] {
    auto& st = self->state;
    if (st.stuck) st.stats.stuck_changed(-1);
    st.stats.finished(st.record.outcome == "completed",
                      static_cast<double>(unix_now_ms() - st.record.created_at_ms) / 1000.0);
    if (st.def->on_finished) st.def->on_finished(st.record.outcome == "completed");
    trace_instance(self);
    st.final = result{st.record.id, st.record.outcome, st.record.reply};
    for (auto& rp : st.awaiting) rp.deliver(*st.final);
    st.awaiting.clear();
    self->quit();
  });
}

// Moves to the compensation of the nearest step at or below `from` that has one.
void compensate_from(saga_actor* self, int from) {
  auto& st = self->state;
  auto& steps = st.def->steps;
  // A resumed run that fails before passing its row's reach undoes everything that may have
  // been sent before the crash.
  if (st.record.state == state_running) from = std::max(from, st.sent_before_crash);
  st.sent_before_crash = -1;
  while (from >= 0 && !steps[static_cast<std::size_t>(from)].compensation) --from;
  if (from < 0) return finish(self, "compensated");
  st.record.state = st.stuck ? state_stuck : state_compensating;
  st.record.step = from;
  st.record.step_name = steps[static_cast<std::size_t>(from)].name;
  st.record.attempts = 1;
  persist(self, [self] { run_current(self); });
}

void record_failure(saga_actor* self, const caf::error& err) {
  auto& st = self->state;
  auto info = describe(err);
  st.data["failure"] = {{"code", info.name},
                        {"message", info.message.empty() ? render(self, err) : info.message},
                        {"step", current(self).name}};
  if (!info.field.empty()) st.data["failure"]["field"] = info.field;
}

// Failpoint "saga.<step>[.undo]<suffix>" of the current step or compensation: `exit` ends
// the process (like kill -9) to test recovery at that point.
void failpoint_at(saga_actor* self, const char* suffix) {
  auto& st = self->state;
  auto name =
      "saga." + current(self).name + (st.record.state == state_running ? "" : ".undo") + suffix;
  if (failpoint(name)) throw std::runtime_error("failpoint " + name);
}

// The answer a completed instance gives.
result completed_result(saga_actor* self) {
  auto& st = self->state;
  return {st.record.id, "completed", st.def->reply ? st.def->reply(st.data, nullptr).dump() : "{}"};
}

// The outcome is certain, and the owner's own state shows it, once a step marked
// retry_until_done is done and only such steps remain: answer the waiting callers then.
void answer_if_certain(saga_actor* self) {
  auto& st = self->state;
  if (st.answered || st.record.state != state_running || st.record.step == 0) return;
  auto& steps = st.def->steps;
  auto at = static_cast<std::size_t>(st.record.step);
  if (!steps[at - 1].retry_until_done) return;
  for (auto i = at; i < steps.size(); ++i)
    if (!steps[i].retry_until_done) return;
  st.answered = true;
  auto r = completed_result(self);
  for (auto& rp : st.awaiting) rp.deliver(r);
  st.awaiting.clear();
}

// The log row the owner's store writes with a local step that succeeds: the next step, first
// attempt.
saga_record next_row(saga_actor* self) {
  auto& st = self->state;
  auto next = st.record;
  auto index = static_cast<std::size_t>(st.record.step) + 1;
  next.step = static_cast<std::int32_t>(index);
  next.reach = reach_of(self, next.step);
  next.step_name = st.def->steps.at(index).name;
  next.attempts = 1;
  next.last_error.clear();
  next.updated_at_ms = unix_now_ms();
  return next;
}

void run_local(saga_actor* self, std::shared_ptr<attempt_context> ctx) {
  auto& st = self->state;
  run_local_step msg{next_row(self), st.record.step, st.data.dump(), ctx->key(),
                     ctx->options().trace};
  // The store answers every request (or its actor is gone, which fails this one).
  self->request(st.h.store, caf::infinite, std::move(msg))
      .then(
          [ctx](std::string& text) {
            auto result = json::parse(text, nullptr, false);
            ctx->succeed(result.is_object() ? std::move(result) : json::object());
          },
          [ctx](caf::error& err) { ctx->fail(err); });
}

// The callee did not answer (as opposed to answering no): what a fallback stands in for.
bool not_answered(const caf::error& err) {
  auto code = describe(err).code;
  return code == errc::unavailable || code == errc::outcome_unknown ||
         code == errc::deadline_exceeded;
}

void fail_for_good(saga_actor* self, const caf::error& err);

// The step's fallback, run by the owner's store instead of the call that failed with `cause`.
void run_fallback_of_current(saga_actor* self, const caf::error& cause) {
  auto& st = self->state;
  auto token = ++st.token;
  auto& s = current(self);
  run_fallback msg{st.def->name,
                   st.def->version,
                   st.record.step,
                   st.data.dump(),
                   st.record.id + ":" + s.name,
                   st.trace,
                   cause};
  self->request(st.h.store, caf::infinite, std::move(msg))
      .then(
          [self, token](std::string& text) {
            auto result = json::parse(text, nullptr, false);
            on_step_done(self, token, std::nullopt,
                         result.is_object() ? std::move(result) : json::object());
          },
          [self, token](caf::error& err) {
            if (token == self->state.token) fail_for_good(self, err);
          });
}

void run_current(saga_actor* self) {
  auto& st = self->state;
  auto& s = current(self);
  bool compensating = st.record.state != state_running;
  calls::call_options opts;
  opts.deadline = self->clock().now() + st.def->step_timeout;
  opts.idempotency_key = st.record.id + ":" + s.name;
  auto span = tracing::active_span::start((compensating ? "compensate " : "step ") + s.name,
                                          tracing::span_kind::internal, st.trace, st.h.capability);
  if (span.active()) {
    span.set("saga.definition", st.def->name);
    span.set("saga.id", st.record.id);
    span.set("saga.step", s.name);
    span.set("saga.attempt", static_cast<std::int64_t>(st.record.attempts));
    if (st.def->span_attributes)
      for (auto& [key, value] : st.def->span_attributes(st.data)) span.set(key, value);
  }
  auto ctx =
      std::make_shared<attempt_context>(self, ++st.token, st.data, opts.idempotency_key,
                                        st.record.attempts, *st.calls, opts, std::move(span));
  // Tests stop the process here: after the log row, before the step is sent.
  failpoint_at(self, ".before");
  try {
    if (compensating)
      s.compensation(*ctx);
    else if (s.local)
      run_local(self, ctx);
    else
      s.action(*ctx);
  } catch (const std::exception& e) {
    ctx->fail(make_error(errc::internal, std::string("step threw: ") + e.what()));
  }
}

// Runs the step the record points at, logging it first unless it needs no row of its own:
// going forward, a read-only step has no effect and a local step writes its row itself.
void advance(saga_actor* self) {
  auto& st = self->state;
  auto& s = current(self);
  if (st.record.state == state_running && (s.read_only || s.local)) return run_current(self);
  persist(self, [self] { run_current(self); });
}

void retry_later(saga_actor* self) {
  auto& st = self->state;
  st.stats.retried();
  auto delay = backoff_delay(st.def->retry, std::min(st.record.attempts - 1, 10));
  self->delayed_send(self, delay, retry_atom_t::value, st.token);
}

// "compensation 'release'" or "step 'commit'", for log lines.
std::string what_runs(saga_actor* self) {
  return std::string(self->state.record.state == state_running ? "step '" : "compensation '") +
         current(self).name + "'";
}

// Retries what must end well (a compensation, a step past the answer); a long run of failures
// shows: past `stuck_after` attempts a log line, the stuck gauge, and a compensation's row
// says stuck.
void retry_while_stuck(saga_actor* self) {
  auto& st = self->state;
  if (st.record.attempts >= st.def->stuck_after && !st.stuck) {
    st.stuck = true;
    st.stats.stuck_changed(1);
    if (st.record.state != state_running) st.record.state = state_stuck;
    log_warn("saga", "saga " + st.record.id + " is stuck: " + what_runs(self) + " failed " +
                         std::to_string(st.record.attempts) +
                         " times, last: " + st.record.last_error + "; still retrying");
  }
  ++st.record.attempts;
  retry_later(self);
}

void recovered_from_stuck(saga_actor* self) {
  auto& st = self->state;
  if (!st.stuck) return;
  st.stuck = false;
  st.stats.stuck_changed(-1);
  log_info("saga", "saga " + st.record.id + ": " + what_runs(self) + " succeeded after " +
                       std::to_string(st.record.attempts) + " attempts");
}

void on_step_done(saga_actor* self, std::uint64_t token, std::optional<caf::error> err,
                  json result) {
  auto& st = self->state;
  if (token != st.token) return;  // an attempt that was given up on
  auto& steps = st.def->steps;
  auto index = st.record.step;
  bool compensating = st.record.state != state_running;
  // Tests stop the process here: the step's answer arrived, its progress is not logged yet.
  failpoint_at(self, ".after");
  if (!err) {
    if (result.is_object()) st.data.update(result);
    st.record.last_error.clear();
    recovered_from_stuck(self);
    if (compensating) return compensate_from(self, index - 1);
    if (static_cast<std::size_t>(index + 1) == steps.size()) return finish(self, "completed");
    // A local step's store wrote the row of the next step already, with this result; a
    // pipelined next step is covered by the row written before this one.
    auto& next = steps[static_cast<std::size_t>(index + 1)];
    bool logged = static_cast<bool>(steps[static_cast<std::size_t>(index)].local) || next.pipelined;
    if (index + 1 > st.sent_before_crash) st.sent_before_crash = -1;
    st.record.step = index + 1;
    st.record.step_name = next.name;
    st.record.attempts = 1;
    st.step_maybe_done = false;
    answer_if_certain(self);
    if (logged) return run_current(self);
    return advance(self);
  }
  st.record.last_error = render(self, *err);
  auto& s = current(self);
  // Compensations are retried until they succeed.
  if (compensating) return retry_while_stuck(self);
  if (s.fallback && not_answered(*err)) return run_fallback_of_current(self, *err);
  auto info = describe(*err);
  bool rejected = info.rejection();
  // Only an error that says "retry later" (unavailable) promises that nothing was done.
  if (info.retry != retry_class::later) st.step_maybe_done = true;
  if (!rejected && (s.retry_until_done || st.record.attempts < st.def->max_attempts)) {
    ++st.record.attempts;
    return retry_later(self);
  }
  // Past the answer the outcome is given: a refusal is not undone but retried until done.
  if (st.answered) return retry_while_stuck(self);
  record_failure(self, *err);
  // A rejected step did nothing, nor did one whose every attempt was refused unsent
  // (`unavailable`); a step that failed otherwise may have happened: undo it too. (A resumed
  // run still compensates from what it may have sent before the crash: compensate_from.)
  compensate_from(self, rejected || !st.step_maybe_done ? index - 1 : index);
}

// Ends the forward run with `err`, without a retry: the current step (read-only: it has a
// fallback) did nothing, so the steps before it are compensated.
void fail_for_good(saga_actor* self, const caf::error& err) {
  auto& st = self->state;
  st.record.last_error = render(self, err);
  record_failure(self, err);
  compensate_from(self, st.record.step - 1);
}

caf::behavior saga_behavior(saga_actor* self, host h, std::shared_ptr<const definition> d,
                            saga_record record, bool fresh) {
  auto& st = self->state;
  st.h = std::move(h);
  st.def = std::move(d);
  st.record = std::move(record);
  st.data = json::parse(st.record.data.empty() ? "{}" : st.record.data, nullptr, false);
  if (!st.data.is_object()) st.data = json::object();
  st.trace.trace_id = st.data.value("trace_id", std::string{});
  st.trace.span_id = st.data.value("trace_span", std::string{});
  st.trace.state = st.data.value("trace_state", std::string{});
  st.trace.sampled = st.data.value("trace_sampled", false);
  st.parent_span = st.data.value("trace_parent", std::string{});
  if (st.trace.trace_id.empty()) st.trace.trace_id = random_hex(16);
  if (st.trace.span_id.empty()) st.trace.span_id = random_hex(8);
  st.calls.emplace(self, st.h.view, st.h.capability);
  if (st.h.sink) st.stats = st.h.sink->for_saga(st.def->name);
  if (st.record.state == state_stuck) {
    st.stuck = true;
    st.stats.stuck_changed(1);
  }
  if (fresh) {
    advance(self);
  } else {
    st.stats.recovered();
    if (st.record.state == state_running)
      st.sent_before_crash = std::max(st.record.reach, st.record.step);
    // The attempt in the log may or may not have been sent: send it again (same key).
    ++st.record.attempts;
    answer_if_certain(self);
    advance(self);
  }
  return {
      [self](retry_atom_t, std::uint64_t token) {
        if (token != self->state.token) return;
        advance(self);
      },
      [self](log_retry_atom) {
        auto next = std::move(self->state.after_log);
        if (next) persist(self, std::move(next));
      },
      [self](await_atom) -> caf::result<result> {
        auto& st = self->state;
        if (st.final) return *st.final;
        if (st.answered) return completed_result(self);
        auto rp = self->make_response_promise();
        st.awaiting.push_back(rp);
        return caf::delegated<result>{};
      },
      [self](calls::tick_atom) { self->state.calls->tick(); },
  };
}

}  // namespace

void registry::add(std::shared_ptr<const definition> d) {
  for (std::size_t i = 0; i < d->steps.size(); ++i) {
    auto& s = d->steps[i];
    if (static_cast<bool>(s.local) == static_cast<bool>(s.action))
      throw std::invalid_argument("saga '" + d->name + "' step '" + s.name +
                                  "' needs exactly one of action and local");
    if (s.local && i + 1 == d->steps.size())
      throw std::invalid_argument("saga '" + d->name + "' step '" + s.name +
                                  "': a local step may not be the last");
    if (s.fallback && !s.read_only)
      throw std::invalid_argument("saga '" + d->name + "' step '" + s.name +
                                  "': only a read-only step may have a fallback");
    if (s.pipelined && (i == 0 || d->steps[i - 1].read_only || s.local || s.read_only))
      throw std::invalid_argument("saga '" + d->name + "' step '" + s.name +
                                  "': a pipelined step needs a step ahead of it that writes a "
                                  "row (not read-only) and may be neither local nor read-only");
  }
  auto key = std::make_pair(d->name, d->version);
  defs_[key] = std::move(d);
}

std::shared_ptr<const definition> registry::find(const std::string& name,
                                                 std::int32_t version) const {
  auto it = defs_.find({name, version});
  return it == defs_.end() ? nullptr : it->second;
}

std::string registry::known() const {
  std::string out;
  for (auto& [key, d] : defs_)
    out += (out.empty() ? "" : ", ") + key.first + " v" + std::to_string(key.second);
  return out.empty() ? "none" : out;
}

caf::actor start(caf::actor_system& sys, const host& h, std::shared_ptr<const definition> d,
                 std::string id, json data, trace_parent trace) {
  saga_record r;
  r.id = std::move(id);
  r.definition = d->name;
  r.version = d->version;
  r.step = 0;
  r.step_name = d->steps.at(0).name;
  r.state = state_running;
  r.attempts = 1;
  data["trace_id"] = std::move(trace.trace_id);
  data["trace_span"] = random_hex(8);  // the instance's span, the same after a restart
  data["trace_parent"] = std::move(trace.span_id);
  data["trace_state"] = std::move(trace.state);
  data["trace_sampled"] = trace.sampled;
  r.data = data.dump();
  r.created_at_ms = unix_now_ms();
  return sys.spawn(saga_behavior, h, std::move(d), std::move(r), true);
}

caf::actor resume(caf::actor_system& sys, const host& h, std::shared_ptr<const definition> d,
                  saga_record record) {
  return sys.spawn(saga_behavior, h, std::move(d), std::move(record), false);
}

saga_record unknown_definition(saga_record r, const registry& known) {
  r.state = state_stuck;
  r.last_error = "unknown saga definition '" + r.definition + "' version " +
                 std::to_string(r.version) + " (this binary knows: " + known.known() +
                 "); not resumed, not compensated: recover it by hand or with a binary that "
                 "knows it";
  r.updated_at_ms = unix_now_ms();
  return r;
}

void register_saga_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<saga_record>("troupe.saga_record");
  cfg.add_message_type<std::vector<saga_record>>("troupe.saga_records");
  cfg.add_message_type<save_saga>("troupe.save_saga");
  cfg.add_message_type<list_sagas>("troupe.list_sagas");
  cfg.add_message_type<find_saga>("troupe.find_saga");
  cfg.add_message_type<unfinished_sagas>("troupe.unfinished_sagas");
  cfg.add_message_type<run_local_step>("troupe.run_local_step");
  cfg.add_message_type<run_fallback>("troupe.run_fallback");
  cfg.add_message_type<result>("troupe.saga_result");
}

}  // namespace troupe::saga
