// The call context every cross-capability request carries, in-process or across nodes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace troupe {

struct call_context {
  std::string trace_id;          // W3C trace id, 32 hex digits
  std::string span_id;           // 16 hex digits, the caller's span
  std::int64_t deadline_ms = 0;  // milliseconds since the Unix epoch; 0 means none
  std::string principal;         // authenticated subject, empty when anonymous
  std::string caller;            // the calling capability, e.g. "gateway"
  std::string idempotency_key;   // empty when the caller gave none
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_context& x) {
  return f(caf::meta::type_name("troupe.call_context"), x.trace_id, x.span_id, x.deadline_ms,
           x.principal, x.caller, x.idempotency_key);
}

// A fresh context for a request entering the system with `budget` until its deadline.
call_context make_call_context(std::string caller, std::chrono::milliseconds budget);

// Time left before the deadline (zero when it passed; `fallback` when there is none).
std::chrono::milliseconds time_left(const call_context& ctx, std::chrono::milliseconds fallback);

// Random lowercase hex of `bytes` bytes, for trace and span ids.
std::string random_hex(std::size_t bytes);

}  // namespace troupe
