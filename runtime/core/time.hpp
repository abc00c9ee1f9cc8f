// Wall-clock time as troupe shows it: Unix epoch milliseconds, printed as ISO 8601 UTC.
#pragma once

#include <cstdint>
#include <string>

namespace troupe {

// Milliseconds since the Unix epoch, now.
std::int64_t unix_now_ms();

// "2026-11-27T13:56:34.287Z".
std::string format_utc_ms(std::int64_t unix_ms);

}  // namespace troupe
