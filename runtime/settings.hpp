// Capability settings: the JSON object under "capabilities" in a topology. Checked with the
// topology, before anything starts, so a bad value is refused with exit 2 like any other
// configuration error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe {

// What is wrong with one setting: its key (empty for the whole object) and the problem.
struct settings_problem {
  std::string key;
  std::string problem;
};

struct integer_setting {
  std::string key;
  std::int64_t min;
  std::int64_t max;
};

// Checks that `settings_json` is an object holding only these keys, each an integer within
// its range.
std::optional<settings_problem> check_integer_settings(const std::string& settings_json,
                                                       const std::vector<integer_setting>& allowed);

// One integer from settings already checked, or `fallback` when absent.
std::int64_t integer_setting_or(const std::string& settings_json, const std::string& key,
                                std::int64_t fallback);

}  // namespace troupe
