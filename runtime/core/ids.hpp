// Random identifiers: trace and span ids, request ids.
#pragma once

#include <cstddef>
#include <string>

namespace troupe {

// Random lowercase hex of `bytes` bytes (so 2 * bytes characters). Thread-safe.
std::string random_hex(std::size_t bytes);
// The same into `out`, reusing its storage (no allocation once it has the capacity).
void random_hex(std::size_t bytes, std::string& out);

}  // namespace troupe
