// The outbox: a capability appends its domain events in the same SQLite transaction as the
// state change they describe, so an event exists exactly when its change does. Readers take
// them by offset (see feed.hpp); subscribers record what they applied (see inbox.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/events/event.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::events {

// Creates the outbox table (component "outbox"); call after opening the database.
void migrate_outbox(sqlite::database& db);

// Appends `e` inside the caller's open transaction. Fills what is unset: id (random),
// aggregate_seq (the aggregate's next), time_ms (now); always sets offset. Throws
// sqlite::error when an aggregate_seq given is already taken.
void append(sqlite::database& db, event_envelope& e);

// Events with offset > after, in order, at most `max`.
std::vector<event_envelope> read_after(sqlite::database& db, std::int64_t after, std::size_t max);
// Events of one aggregate in sequence order.
std::vector<event_envelope> read_aggregate(sqlite::database& db, const std::string& aggregate_id);
std::int64_t last_offset(sqlite::database& db);

}  // namespace troupe::events
