// The subscriber side in storage: per subscription, the offset read up to and the ids of
// events applied, written in the same transaction as each event's effect. An event that
// comes again (at-least-once delivery, a replayed page, a restart between apply and ack)
// takes no second effect.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/events/event.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::events {

// Creates the inbox tables (component "inbox").
void migrate_inbox(sqlite::database& db);

// The offset `subscription` has applied up to (0: nothing yet).
std::int64_t inbox_offset(sqlite::database& db, const std::string& subscription);

// Inside the caller's open transaction: unless `e` was applied already (by id, or at or
// below the stored offset), runs `effect(e)` and records the event and the new offset.
// Returns whether it applied. Ids are kept for the newest `remembered_ids` offsets only:
// older repeats are caught by the offset.
bool apply_once(sqlite::database& db, const std::string& subscription, const event_envelope& e,
                const std::function<void(const event_envelope&)>& effect);

// apply_once for each event of a page, in order, with the offset read and written once.
// Returns how many took effect.
std::size_t apply_page_once(sqlite::database& db, const std::string& subscription,
                            const std::vector<event_envelope>& page,
                            const std::function<void(const event_envelope&)>& effect);

// Forgets a subscription entirely (a projection rebuild starts it again from 0).
void reset_inbox(sqlite::database& db, const std::string& subscription);

inline constexpr std::int64_t remembered_ids = 10000;

}  // namespace troupe::events
