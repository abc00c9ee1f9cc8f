// The call context every cross-capability request carries, in-process or across nodes.
//
// The deadline is a point on this process's steady clock. It never crosses a node as a
// time: when a message is serialized for another node, the budget left at that moment is
// written, and the receiving node turns it back into a deadline on its own clock as the
// message arrives. Clocks of different nodes never have to agree, and time spent queued on
// either side counts against the budget.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

namespace troupe {

// Where new work hangs in a trace (observability/tracing.hpp): the trace, the span it is
// done under (empty: it starts the trace), the W3C tracestate passed on, and whether the
// trace is recorded.
struct trace_parent {
  std::string trace_id;  // 32 hex digits
  std::string span_id;   // 16 hex digits
  std::string state;
  bool sampled = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, trace_parent& x) {
  return f(caf::meta::type_name("troupe.trace_parent"), x.trace_id, x.span_id, x.state, x.sampled);
}

struct call_context {
  using clock = std::chrono::steady_clock;
  std::string trace_id;     // W3C trace id, 32 hex digits; the HTTP request id at the gateway
  std::string span_id;      // 16 hex digits: the caller's span of this call
  std::string trace_state;  // W3C tracestate, passed on as it came in (bounded at the gateway)
  bool sampled = true;      // the trace is recorded
  clock::time_point deadline = clock::time_point::max();  // max(): no deadline
  // The end user the call acts for, as the gateway's token verification found them: the
  // token's subject and scopes. Empty when no end user is behind the call (a capability
  // acting on its own behalf, such as a saga step).
  std::string principal;
  std::vector<std::string> scopes;
  std::string caller;  // the calling capability's name
  // The call carries a client's request (an HTTP entry's): acts_for then needs the
  // principal, since no end user behind it means an anonymous client, not a capability.
  bool from_client = false;
  std::string idempotency_key;  // empty when the caller gave none
  // When it was sent, or arrived from another node: the time since is what it spent queued
  // (load shedding, see core/error.hpp refuse_late). Never on the wire. Unset: not tracked.
  clock::time_point queued_since{};
};

// The budget as it travels: microseconds left now (<= 0: already late; INT64_MAX: none).
std::int64_t wire_budget_us(const call_context& ctx);
// The receiving side: the deadline becomes now + the budget on this node's clock.
void set_deadline_from_wire(call_context& ctx, std::int64_t budget_us);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_context& x) {
  std::int64_t budget_us = wire_budget_us(x);
  return f(caf::meta::type_name("troupe.call_context"), x.trace_id, x.span_id, budget_us,
           caf::meta::load_callback([&]() -> caf::error {
             set_deadline_from_wire(x, budget_us);
             x.queued_since = call_context::clock::now();
             return caf::error{};
           }),
           x.principal, x.scopes, x.caller, x.from_client, x.idempotency_key, x.trace_state,
           x.sampled);
}

// Work done for a call hangs under the caller's span of it.
inline trace_parent parent_of(const call_context& ctx) {
  return {ctx.trace_id, ctx.span_id, ctx.trace_state, ctx.sampled};
}

// The scope that lets an end user read and change what any customer owns.
inline constexpr const char* admin_scope = "admin";

bool has_scope(const call_context& ctx, std::string_view scope);

// Object-level authorization: whether the call may see or change what `owner` (a user id)
// owns. Yes when the end user behind it is that owner or holds admin_scope, or when no end
// user is behind it and it does not carry a client's request (a capability on its own
// behalf). A capability answers `no` as not_found, so ids of others stay unknown.
bool acts_for(const call_context& ctx, std::string_view owner);

// A fresh context (new trace) for work entering the system with `budget` to finish.
call_context make_call_context(std::string caller, std::chrono::milliseconds budget);

// Whether the deadline has passed at `now` (an actor passes self->clock().now(), so that
// deterministic tests control time).
inline bool past_deadline(const call_context& ctx, call_context::clock::time_point now) {
  return now >= ctx.deadline;
}

}  // namespace troupe
