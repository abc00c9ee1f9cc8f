// JSON helpers shared by every layer that speaks JSON (nlohmann_json).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace troupe {

// Compact JSON; invalid UTF-8 in strings is replaced instead of throwing, so rendering an
// answer never fails on bytes a client sent.
std::string dump_json(const nlohmann::json& value);

// Appends `text` as a JSON string literal (quotes included) to `out`: for answers rendered
// straight into a string, without building a tree. Valid UTF-8 comes out exactly as dump_json
// writes it; each byte that is not part of valid UTF-8 becomes U+FFFD (dump_json replaces a
// whole broken sequence by one), so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view text);

// The deepest nesting of arrays and objects in `text` (strings and escapes understood),
// counted without parsing; stops counting at `stop_at`. Lets a caller refuse deeply nested
// input before a parser builds it.
std::size_t json_nesting_depth(std::string_view text, std::size_t stop_at);

}  // namespace troupe
