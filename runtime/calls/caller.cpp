#include "runtime/calls/caller.hpp"

#include <algorithm>
#include <stdexcept>

#include <caf/all.hpp>

#include "runtime/core/error.hpp"
#include "runtime/core/ids.hpp"

namespace troupe::calls {

namespace {

using namespace std::chrono_literals;

// CAF's response handlers are keyed by the response id; a request id becomes one.
caf::message_id response_id_of(caf::message_id id) {
  return id.is_response() ? id : id.response_id();
}

}  // namespace

caller::caller(caf::event_based_actor* self, std::shared_ptr<directory_view> view, std::string name,
               std::chrono::milliseconds default_budget)
    : self_(self), view_(std::move(view)), name_(std::move(name)), default_budget_(default_budget) {
  seen_epoch_.resize(view_->size());
  handles_.resize(view_->size());
}

caller::~caller() {
  for (auto& [id, call] : pending_) {
    view_->release(call.slot);
    view_->breaker(call.slot).cancel(call.ticket);  // a trial that never ended frees its place
  }
  if (!pending_.empty()) view_->unwatch(self_->address());
}

void caller::schedule(clock::time_point at) {
  auto now = self_->clock().now();
  // A timer holds its actor until it fires (CAF 0.17 cannot cancel it): at most a second
  // ahead, so an actor done with its calls is not kept for a long deadline.
  at = std::min(at, now + std::chrono::seconds{1});
  if (at >= timer_at_) return;  // the tick scheduled already comes first
  timer_at_ = at;
  self_->delayed_send(self_, at > now ? at - now : clock::duration::zero(), tick_atom::value);
}

callee caller::resolve(const std::string& capability) const {
  auto slot = view_->index_of(capability);
  if (!slot)
    throw std::invalid_argument("'" + name_ + "' calls '" + capability +
                                "', which this node's directory does not know");
  return callee{*slot};
}

caf::error caller::admit(callee to, clock::time_point& deadline, admission& out, failure& why) {
  auto refused = admit_or_refuse(to, deadline, out, why);
  if (refused) view_->calls(to.slot).counted(call_metrics::outcome::refused, 0);
  return refused;
}

caf::error caller::admit_or_refuse(callee to, clock::time_point& deadline, admission& out,
                                   failure& why) {
  why = failure::final;
  auto& capability = view_->name_of(to.slot);
  auto now = self_->clock().now();
  if (deadline == clock::time_point::max()) deadline = now + default_budget_;
  if (now >= deadline)
    return make_error(errc::deadline_exceeded,
                      "the deadline passed before the call to '" + capability + "' was sent");
  auto& cached = handles_[to.slot];
  out.target = cached.get(*view_, to.slot);
  out.epoch = cached.epoch();
  if (!out.target) {
    why = failure::not_sent;
    // Why (a node's address, a connect error) is for operators, on the admin /ready; this
    // error may reach an HTTP client, so it names the capability only.
    return make_error(errc::unavailable, "capability '" + capability + "' is unavailable", {}, 1s);
  }
  // The handle's actor stopped and the directory has not dropped it yet: a CAF 0.17 proxy of
  // a stopped remote actor drops a call without a word, so it is not sent (safe to retry).
  if (caf::actor_cast<caf::abstract_actor*>(out.target)
          ->getf(caf::abstract_actor::is_terminated_flag)) {
    why = failure::not_sent;
    return make_error(errc::unavailable,
                      "capability '" + capability + "' has stopped; nothing was sent", {}, 1s);
  }
  if (!view_->try_acquire(to.slot))
    return make_error(errc::unavailable,
                      "capability '" + capability + "' already has " +
                          std::to_string(view_->max_in_flight()) +
                          " calls in flight from this node",
                      {}, 1s);
  auto& breaker = view_->breaker(to.slot);
  out.ticket = breaker.admit(now);  // the actor clock is the steady clock
  if (!out.ticket.admitted) {
    view_->release(to.slot);
    auto wait = std::chrono::ceil<std::chrono::seconds>(out.ticket.retry_in);
    return make_error(errc::unavailable,
                      "calls to '" + capability + "' fail fast: its circuit breaker is " +
                          breaker.describe() + "; nothing was sent",
                      {}, std::max(wait, std::chrono::seconds{1}));
  }
  return {};
}

void caller::unadmit(callee to, const admission& a) {
  view_->release(to.slot);
  view_->breaker(to.slot).cancel(a.ticket);
}

std::string caller::new_trace_id() {
  return random_hex(16);
}

call_context caller::context_for(call_options opts) const {
  call_context ctx;
  ctx.trace_id = opts.trace.trace_id.empty() ? new_trace_id() : std::move(opts.trace.trace_id);
  ctx.span_id = random_hex(8);
  ctx.trace_state = std::move(opts.trace.state);
  ctx.sampled = opts.trace.sampled;
  ctx.deadline = opts.deadline;
  ctx.principal = std::move(opts.principal);
  ctx.scopes = std::move(opts.scopes);
  ctx.from_client = opts.from_client;
  ctx.caller = name_;
  ctx.idempotency_key = std::move(opts.idempotency_key);
  ctx.queued_since = self_->clock().now();
  return ctx;
}

tracing::active_span caller::span_for(const call_context& ctx, std::string parent,
                                      const char* operation) const {
  if (!ctx.sampled || !tracing::enabled()) return {};
  // The call's span id is the one the context carries: the callee's work hangs under it.
  return tracing::active_span::start(operation, tracing::span_kind::client,
                                     {ctx.trace_id, std::move(parent), ctx.trace_state, true},
                                     name_, ctx.span_id);
}

void caller::trace_refusal(callee to, const call_options& opts, const char* operation,
                           const caf::error& err) const {
  if (!opts.trace.sampled || !tracing::enabled()) return;
  auto span = tracing::active_span::start(operation, tracing::span_kind::client, opts.trace, name_);
  span.set("rpc.system", std::string("troupe"));
  span.set("rpc.service", view_->name_of(to.slot));
  span.set("troupe.sent", false);
  span.fail(describe(err).message);
  span.end();
}

caller::key caller::track(caf::message_id request, callee to, clock::time_point deadline,
                          const admission& a, tracing::active_span span) {
  key k{deadline, response_id_of(request).integer_value()};
  if (pending_.empty()) view_->watch(self_->address());
  pending_call call;
  call.slot = to.slot;
  call.epoch = a.epoch;
  call.ticket = a.ticket;
  call.sent_at = self_->clock().now();
  call.span = std::move(span);
  pending_.emplace(k, std::move(call));
  schedule(deadline);
  // The handle may have changed between admit() and watch(): no wake-up came for that.
  if (view_->epoch(to.slot) != a.epoch) self_->send(self_, tick_atom::value);
  return k;
}

caller::failure caller::finish(const key& k, const caf::error* err) {
  auto it = pending_.find(k);
  if (it == pending_.end()) return failure::final;
  auto& call = it->second;
  // The callee did not answer: the caller gave up on it (deadline, lost handle) or CAF says
  // it was gone. Anything the callee answered, however negative, says it is there.
  // The callee was gone before it processed the call (CAF bounced it)...
  bool bounced = err && err->category() == caf::atom("system") &&
                 static_cast<caf::sec>(err->code()) == caf::sec::request_receiver_down;
  // ...or the caller gave up on it: the outcome_unknown tick() injected (an answer of the
  // callee's own that was already on its way when tick() gave up is still an answer).
  bool given_up = err && call.failing && describe(*err).code == errc::outcome_unknown;
  bool not_answering = bounced || given_up;
  auto why = failure::answered;
  if (bounced)
    why = failure::lost;
  else if (given_up)
    why = call.lost ? failure::lost : failure::final;
  auto now = std::chrono::steady_clock::now();
  view_->breaker(call.slot).record(call.ticket, not_answering, now);
  view_->calls(call.slot).counted(
      !err            ? call_metrics::outcome::ok
      : not_answering ? call_metrics::outcome::no_answer
                      : call_metrics::outcome::error,
      std::chrono::duration<double>(self_->clock().now() - call.sent_at).count());
  if (call.span.active()) {
    call.span.set("rpc.system", std::string("troupe"));
    call.span.set("rpc.service", view_->name_of(call.slot));
    if (err) {
      auto info = describe(*err);
      call.span.set("error.type", info.name);
      call.span.fail(info.message);
    }
    call.span.end();
  }
  view_->release(it->second.slot);
  pending_.erase(it);
  if (pending_.empty()) view_->unwatch(self_->address());
  return why;
}

bool caller::may_retry(failure why, const call_options& opts, int attempts_made,
                       clock::time_point& at) const {
  if (why != failure::not_sent && why != failure::lost) return false;
  if (attempts_made >= opts.retry.attempts) return false;
  at = self_->clock().now() + backoff_delay(opts.retry.backoff, attempts_made - 1);
  // A retry that could not be sent before the deadline is not worth the wait.
  return at < opts.deadline;
}

void caller::later(clock::time_point at, std::function<void()> what) {
  retries_.emplace(at, std::move(what));
  schedule(at);
}

caf::error caller::settle(caf::error err) const {
  if (err.category() == caf::atom("system") &&
      static_cast<caf::sec>(err.code()) == caf::sec::request_receiver_down)
    return make_error(errc::unavailable,
                      "the capability stopped before it processed the call; nothing was done", {},
                      1s);
  return err;
}

void caller::complete_with(std::uint64_t id, caf::error err) {
  // abstract_actor::enqueue is CAF's public way to deliver a message with a given id; the
  // response handler registered by call() receives it like any other answer.
  self_->enqueue(nullptr, caf::message_id{id}, caf::make_message(std::move(err)), self_->context());
}

void caller::tick() {
  auto now = self_->clock().now();
  if (now >= timer_at_) timer_at_ = clock::time_point::max();  // this is that tick
  // Retries that are due go out first; each may schedule its own next one.
  std::vector<std::function<void()>> due;
  while (!retries_.empty() && retries_.begin()->first <= now) {
    due.push_back(std::move(retries_.begin()->second));
    retries_.erase(retries_.begin());
  }
  for (auto& retry : due) retry();
  // Expired calls are at the front; those already failing stay until their handler runs.
  for (auto it = pending_.begin(); it != pending_.end() && it->first.first <= now; ++it) {
    if (it->second.failing) continue;
    it->second.failing = true;
    complete_with(it->first.second,
                  make_error(errc::outcome_unknown,
                             "no answer from '" + view_->name_of(it->second.slot) +
                                 "' before the deadline; the call was sent, so its effect may "
                                 "have happened"));
  }
  // A handle that changed since a call was sent is gone, and so is that call's answer, unless
  // its actor stopped on a node still connected: then CAF bounces the calls it had not
  // processed, which the callee's clean shutdown relies on (503, nothing done, rather than
  // 504), so those calls get a moment for that answer first.
  auto lose = [this](const key& k, pending_call& call) {
    call.failing = true;
    call.lost = true;
    complete_with(k.second, make_error(errc::outcome_unknown,
                                       "'" + view_->name_of(call.slot) +
                                           "' was lost after the call was sent; its effect "
                                           "may have happened"));
  };
  for (std::size_t slot = 0; slot < seen_epoch_.size(); ++slot) {
    auto current = view_->epoch(slot);
    if (current == seen_epoch_[slot]) continue;
    seen_epoch_[slot] = current;
    bool still_answering = view_->dropped_still_answering(slot);
    for (auto& [k, call] : pending_) {
      if (call.slot != slot || call.failing || call.epoch == current) continue;
      if (!still_answering) {
        lose(k, call);
      } else if (call.lost_at == clock::time_point::max()) {
        call.lost_at = now + bounce_grace;
        ++awaiting_bounce_;
        schedule(call.lost_at);
      }
    }
  }
  if (awaiting_bounce_ > 0) {
    awaiting_bounce_ = 0;
    auto next = clock::time_point::max();
    for (auto& [k, call] : pending_) {
      if (call.failing || call.lost_at == clock::time_point::max()) continue;
      if (call.lost_at <= now) {
        lose(k, call);
      } else {
        ++awaiting_bounce_;
        next = std::min(next, call.lost_at);
      }
    }
    if (next != clock::time_point::max()) schedule(next);
  }
  for (auto& [k, call] : pending_)
    if (!call.failing) {
      schedule(k.first);  // the earliest deadline still to come
      break;
    }
  if (!retries_.empty()) schedule(retries_.begin()->first);
}

}  // namespace troupe::calls
