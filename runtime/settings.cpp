#include "runtime/settings.hpp"

#include <nlohmann/json.hpp>

namespace troupe {

std::optional<settings_problem> check_integer_settings(
    const std::string& settings_json, const std::vector<integer_setting>& allowed) {
  auto settings = nlohmann::json::parse(settings_json, nullptr, false);
  if (!settings.is_object()) return settings_problem{"", "must be an object of settings"};
  for (auto& [key, value] : settings.items()) {
    const integer_setting* rule = nullptr;
    std::string names;
    for (auto& candidate : allowed) {
      if (candidate.key == key) rule = &candidate;
      names += (names.empty() ? "" : ", ") + candidate.key;
    }
    if (!rule)
      return settings_problem{
          key, "unknown setting '" + key + "' (allowed: " + (names.empty() ? "none" : names) + ")"};
    auto range = std::to_string(rule->min) + " to " + std::to_string(rule->max);
    if (!value.is_number_integer() || value.get<std::int64_t>() < rule->min ||
        value.get<std::int64_t>() > rule->max)
      return settings_problem{key, "must be an integer from " + range};
  }
  return std::nullopt;
}

std::int64_t integer_setting_or(const std::string& settings_json, const std::string& key,
                                std::int64_t fallback) {
  auto settings = nlohmann::json::parse(settings_json, nullptr, false);
  if (!settings.is_object() || !settings.contains(key)) return fallback;
  return settings[key].get<std::int64_t>();
}

}  // namespace troupe
