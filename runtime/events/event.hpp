// Domain events as they leave a capability: the envelope, and the pull protocol through
// which subscribers read a capability's outbox by offset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "runtime/core/call_context.hpp"

namespace troupe::events {

struct event_envelope {
  std::int64_t offset = 0;  // position in the producer's outbox: from 1, increasing in commit order
  std::string id;           // unique; subscribers deduplicate by it
  std::string type;         // "UserCreated"
  std::string source;       // producing capability
  std::string aggregate_id;        // "u-1", "o-…", a SKU
  std::int64_t aggregate_seq = 0;  // 1, 2, … per aggregate
  std::int64_t time_ms = 0;        // Unix ms when written
  std::string trace_id;            // trace of the request that caused it
  std::string payload;             // JSON text
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_envelope& x) {
  return f(caf::meta::type_name("troupe.event"), x.offset, x.id, x.type, x.source, x.aggregate_id,
           x.aggregate_seq, x.time_ms, x.trace_id, x.payload);
}

// Reads the outbox after `after`: at most `max` events (capped by the producer). With no
// event there yet the producer holds the request up to `wait_ms` (capped) and answers as soon
// as one commits, so a waiting subscriber gets new events pushed without polling; an empty
// page means the wait ended. Answers events_page.
struct pull_events {
  call_context ctx;
  std::int64_t after = 0;
  std::int32_t max = 256;
  std::int32_t wait_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pull_events& x) {
  return f(caf::meta::type_name("troupe.pull_events"), x.ctx, x.after, x.max, x.wait_ms);
}

struct events_page {
  std::vector<event_envelope> events;  // in offset order
  std::int64_t last_offset = 0;        // the outbox's newest offset when answered
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, events_page& x) {
  return f(caf::meta::type_name("troupe.events_page"), x.events, x.last_offset);
}

// Upper bounds a producer applies to what a puller asks, whoever it is.
inline constexpr std::int32_t max_page_events = 1024;
inline constexpr std::int32_t max_pull_wait_ms = 30000;

}  // namespace troupe::events
