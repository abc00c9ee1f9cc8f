// The caller: every cross-capability request goes through one, from the gateway today and
// from sagas next. It lives in the calling actor's state and owns, for that actor:
//
//  - resolution: handles come from the node's directory view (never spawned, never a host);
//  - the call context: trace, caller, principal, idempotency key, and the deadline, which
//    crosses nodes as the budget left (see core/call_context.hpp);
//  - a bound on calls in flight per callee, node-wide (topology "calls": {"max_in_flight"}):
//    beyond it a call is refused at once, never queued;
//  - deadlines, enforced by the caller itself (one timer at the earliest pending deadline, at
//    most 1 s ahead;
//    the directory view wakes the actor when a handle changes), without retaining answered
//    calls and without CAF's per-request clock entries;
//  - telling "not sent" from "sent, outcome unknown":
//      unavailable        (503, retry_after)  not sent: no handle, bound reached, or the
//                                             callee was gone before it processed the call;
//      deadline_exceeded  (504)               the budget was spent before sending;
//      outcome_unknown    (504)               sent, then the deadline passed or the handle it
//                                             went to was lost: the effect may have happened.
//    Every other error is the callee's own answer.
//  - the callee's circuit breaker (core/circuit_breaker.hpp, one per callee node-wide, in the
//    view): while it is open a call is refused at once as `unavailable`, never sent. What
//    counts as a failure is decided here: a deadline that passed, a handle lost under the
//    call, a callee that stopped before processing it. An answer, a rejection included, is
//    a success: the callee is there and deciding.
//
//  - retries, only for calls declared idempotent (call_options::retry): a call that was not
//    sent because the callee had no handle, or whose handle was lost under it (a restart, a
//    node lost and back), or whose callee stopped before processing it, is sent again after
//    a backoff with jitter, up to `attempts` in all, and only while the backoff ends before
//    the deadline. Never retried: the callee's own answers, a deadline that passed, a full
//    in-flight bound or an open breaker (retrying those adds load where there is too much).
//
// Use from an event-based actor (stateful_actor<S> included):
//   state: calls::caller calls{self, ctx.view, "gateway"};  calls::callee users =
//   calls.resolve("users"); behavior: [self](calls::tick_atom) { self->state.calls.tick(); }, call:
//   self->state.calls.call<user>(users, get_user{{}, id}, {deadline}, on_user, on_error);
// Every message sent through a caller has a `call_context ctx` member; the caller fills it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/message_id.hpp>
#include <caf/meta/type_name.hpp>

#include "runtime/cluster/directory_view.hpp"
#include "runtime/core/atoms.hpp"
#include "runtime/core/backoff.hpp"
#include "runtime/core/call_context.hpp"
#include "runtime/observability/tracing.hpp"

namespace troupe::calls {

// Delivered to the calling actor while calls are pending (a deadline is due, or a handle
// changed); route it to caller::tick().
using tick_atom = call_tick_atom;

namespace detail {

// The name a message's inspect() gives its type ("inventory.reserve_stock"): the operation
// a call span is named after.
struct type_name_probe {
  using result_type = void;
  static constexpr bool reads_state = true;
  static constexpr bool writes_state = false;
  const char* name = "call";
  template <class... Ts>
  void operator()(Ts&&... xs) {
    (take(xs), ...);
  }
  void take(const caf::meta::type_name_t& x) { name = x.value; }
  template <class T>
  void take(const T&) {}
};

template <class Message>
const char* operation_of() {
  static const char* name = [] {
    type_name_probe probe;
    if constexpr (std::is_default_constructible_v<Message>) {
      Message m{};
      inspect(probe, m);
    }
    return probe.name;
  }();
  return name;
}

}  // namespace detail

// A capability a caller calls, resolved once.
struct callee {
  std::size_t slot = 0;
};

// What a call carries besides its message.
struct call_options {
  // The caller stops waiting here; max() (unset): the caller's default budget from now.
  call_context::clock::time_point deadline = call_context::clock::time_point::max();
  // The trace and span the call is made under; an empty trace id: the call starts a trace.
  trace_parent trace;
  std::string principal;            // the end user it acts for (call_context::principal)
  std::vector<std::string> scopes;  // and their scopes
  bool from_client = false;         // it carries a client's request (call_context::from_client)
  std::string idempotency_key;
  // Sending it twice has the effect of sending it once (a read, a keyed write): the caller
  // may retry it (see above), up to `attempts` sends in all.
  struct retry_policy {
    int attempts = 1;  // 1: no retry
    backoff_policy backoff{std::chrono::milliseconds{20}, std::chrono::milliseconds{500}};
  } retry;
};

class caller {
 public:
  using clock = call_context::clock;

  // `name` is the calling capability, carried in every call context. Calls without a
  // deadline get `default_budget`: no call waits without end.
  caller(caf::event_based_actor* self, std::shared_ptr<directory_view> view, std::string name,
         std::chrono::milliseconds default_budget = std::chrono::milliseconds{30000});
  ~caller();  // gives back the in-flight slots of calls still pending
  caller(const caller&) = delete;
  caller& operator=(const caller&) = delete;

  // Throws std::invalid_argument when the node's view does not know `capability` (the
  // topology does not say this node calls it).
  callee resolve(const std::string& capability) const;

  // Sends `msg` to `to`. Exactly one of the handlers runs, in this actor, exactly once:
  // `on_reply(Reply&)` with the answer, or `on_error(const caf::error&)` (possibly before
  // call() returns, when the call is refused without being sent).
  template <class Reply, class Message, class OnReply, class OnError>
  void call(callee to, Message msg, call_options opts, OnReply on_reply, OnError on_error);

  // Fails calls whose deadline passed or whose callee's handle changed since they were sent.
  void tick();

  std::size_t in_flight() const { return pending_.size(); }
  std::size_t retries_waiting() const { return retries_.size(); }
  const std::string& name() const { return name_; }

 private:
  // How a call ended without an answer, for deciding on a retry.
  enum class failure : std::uint8_t {
    answered,  // the callee's own error: never retried
    not_sent,  // no handle: retried
    lost,      // sent, then the handle was lost or the callee stopped: retried
    final,     // deadline passed, in-flight bound, breaker open: never retried
  };
  template <class Reply, class Message, class OnReply, class OnFailure>
  void send(callee to, Message msg, call_options opts, OnReply on_reply, OnFailure on_failure);
  template <class Reply, class Message, class OnReply, class OnError>
  struct retrying;
  template <class State>
  static void attempt(caller* self, callee to, std::shared_ptr<State> st);
  // Runs `what` at `at` (from tick()); dropped with the caller.
  void later(clock::time_point at, std::function<void()> what);
  // Whether a failed attempt may be sent again, and after how long.
  bool may_retry(failure why, const call_options& opts, int attempts_made,
                 clock::time_point& at) const;

  // Pending calls in deadline order; the response id makes the key unique. One node per
  // call, gone when the call ends.
  using key = std::pair<clock::time_point, std::uint64_t>;
  struct pending_call {
    std::size_t slot = 0;
    std::uint64_t epoch = 0;  // of the handle it was sent to
    circuit_breaker::ticket ticket;
    bool failing = false;  // an outcome was injected; waiting for its handler to run
    bool lost = false;     // ... because the handle it went to was lost
    // Its handle stopped on a node still connected: lost only if no answer (CAF bounces
    // what the stopped actor had not processed) comes by then.
    clock::time_point lost_at = clock::time_point::max();
    clock::time_point sent_at;  // for capability_call_duration_seconds
    tracing::active_span span;  // the client span, when the trace is recorded
  };
  // What admit() gives a call it lets through.
  struct admission {
    caf::actor target;
    std::uint64_t epoch = 0;
    circuit_breaker::ticket ticket;
  };

  // Not sent: an error. Sent: the target and its epoch; an unset deadline becomes the default.
  caf::error admit(callee to, clock::time_point& deadline, admission& out, failure& why);
  caf::error admit_or_refuse(callee to, clock::time_point& deadline, admission& out, failure& why);
  // Gives back what admit() took for a call that was not sent after all.
  void unadmit(callee to, const admission& a);
  call_context context_for(call_options opts) const;
  // The client span of a call about to be sent with `ctx`, under the caller's span `parent`
  // (inactive when not recorded).
  tracing::active_span span_for(const call_context& ctx, std::string parent,
                                const char* operation) const;
  // A call refused before it was sent, as a span of its own (when the trace is recorded).
  void trace_refusal(callee to, const call_options& opts, const char* operation,
                     const caf::error& err) const;
  static std::string new_trace_id();
  key track(caf::message_id id, callee to, clock::time_point deadline, const admission& a,
            tracing::active_span span);
  // Ends a call's bookkeeping; every completion, answered or failed (`err`), passes here
  // once. How it failed, when it did.
  failure finish(const key& k, const caf::error* err);
  // Normalizes what a callee (or CAF) answered with into troupe's codes.
  caf::error settle(caf::error err) const;
  // Completes a sent call with `err` through its own response handler: the error is
  // delivered as the response CAF waits for, so its handler runs and is released.
  void complete_with(std::uint64_t id, caf::error err);

  caf::event_based_actor* self_;
  std::shared_ptr<directory_view> view_;
  std::string name_;
  std::chrono::milliseconds default_budget_;
  clock::time_point timer_at_ = clock::time_point::max();  // of the tick scheduled last
  void schedule(clock::time_point at);
  std::map<key, pending_call> pending_;
  std::multimap<clock::time_point, std::function<void()>> retries_;
  std::size_t awaiting_bounce_ = 0;  // pending calls with a lost_at, as of the last count
  // How long a call whose handle stopped on a connected node waits for CAF's bounce.
  static constexpr std::chrono::milliseconds bounce_grace{250};
  std::vector<std::uint64_t> seen_epoch_;               // per slot, as of the last tick
  std::vector<directory_view::cached_handle> handles_;  // per slot
};

template <class Reply, class Message, class OnReply, class OnError>
void caller::call(callee to, Message msg, call_options opts, OnReply on_reply, OnError on_error) {
  if (opts.trace.trace_id.empty()) {  // one trace for every attempt
    opts.trace.trace_id = new_trace_id();
    opts.trace.sampled = tracing::sample_new_trace();
  }
  // One deadline for every attempt, too.
  if (opts.deadline == clock::time_point::max())
    opts.deadline = self_->clock().now() + default_budget_;
  if (opts.retry.attempts <= 1)
    return send<Reply>(to, std::move(msg), std::move(opts), std::move(on_reply),
                       [on_error = std::move(on_error)](const caf::error& err, failure) mutable {
                         on_error(err);
                       });
  using state = retrying<Reply, Message, OnReply, OnError>;
  attempt(this, to,
          std::make_shared<state>(
              state{std::move(msg), std::move(opts), std::move(on_reply), std::move(on_error), 0}));
}

// A call that may be sent again: what each attempt needs, kept until one ends it.
template <class Reply, class Message, class OnReply, class OnError>
struct caller::retrying {
  using reply_type = Reply;
  Message msg;
  call_options opts;
  OnReply on_reply;
  OnError on_error;
  int attempts = 0;  // made so far
};

template <class State>
void caller::attempt(caller* self, callee to, std::shared_ptr<State> st) {
  ++st->attempts;
  self->send<typename State::reply_type>(
      to, st->msg, st->opts, [st](typename State::reply_type& reply) { st->on_reply(reply); },
      [self, to, st](const caf::error& err, failure why) {
        clock::time_point at;
        if (!self->may_retry(why, st->opts, st->attempts, at)) return st->on_error(err);
        self->later(at, [self, to, st] { attempt(self, to, st); });
      });
}

template <class Reply, class Message, class OnReply, class OnFailure>
void caller::send(callee to, Message msg, call_options opts, OnReply on_reply,
                  OnFailure on_failure) {
  admission admitted;
  auto deadline = opts.deadline;
  auto why = failure::final;
  if (auto refused = admit(to, deadline, admitted, why)) {
    trace_refusal(to, opts, detail::operation_of<Message>(), refused);
    return on_failure(refused, why);
  }
  opts.deadline = deadline;
  // Admitted but never tracked (something below threw): what admit() took goes back.
  struct unadmit_unless_tracked {
    caller& self;
    callee to;
    const admission& admitted;
    bool tracked = false;
    ~unadmit_unless_tracked() {
      if (!tracked) self.unadmit(to, admitted);
    }
  } guard{*this, to, admitted};
  auto parent_span = std::move(opts.trace.span_id);
  msg.ctx = context_for(std::move(opts));
  auto span = span_for(msg.ctx, std::move(parent_span), detail::operation_of<Message>());
  // No CAF timeout: the caller enforces the deadline (see tick()).
  auto handle = self_->request(admitted.target, caf::infinite, std::move(msg));
  auto k = track(handle.id(), to, deadline, admitted, std::move(span));
  guard.tracked = true;
  handle.then(
      [this, k, on_reply = std::move(on_reply)](Reply& reply) mutable {
        finish(k, nullptr);
        on_reply(reply);
      },
      [this, k, on_failure = std::move(on_failure)](caf::error& err) mutable {
        auto why = finish(k, &err);
        on_failure(settle(std::move(err)), why);
      });
}

}  // namespace troupe::calls
