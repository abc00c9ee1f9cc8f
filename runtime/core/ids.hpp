// Random identifiers: trace and span ids, request ids, event ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace troupe {

// Random lowercase hex of `bytes` bytes (so 2 * bytes characters). Thread-safe.
std::string random_hex(std::size_t bytes);
// The same into `out`, reusing its storage (no allocation once it has the capacity).
void random_hex(std::size_t bytes, std::string& out);
// 32 hex characters: the time in milliseconds (12) then 80 random bits (20). Ids made later
// sort later, so a SQLite index on them grows at its end (like UUIDv7) instead of touching
// a random page per insert, which every commit would write again.
std::string time_ordered_hex();
// 64 bits for ids that must stay 16 hex digits (orders, reservations, charges): the time in
// milliseconds (44 bits, until the year 2527) then a process-wide counter that starts at a
// random value (20 bits). Unique within a process (a million a millisecond); two processes
// minting in the same millisecond collide only if their counters meet, so one capability's
// ids come from the one node that hosts it.
std::uint64_t time_ordered_id64();
std::string time_ordered_hex64();  // the same as 16 hex digits

}  // namespace troupe
