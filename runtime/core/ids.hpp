// Random identifiers: trace and span ids, request ids, event ids.
#pragma once

#include <cstddef>
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

}  // namespace troupe
