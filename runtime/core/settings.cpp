#include "runtime/core/settings.hpp"

#include <nlohmann/json.hpp>

namespace troupe {

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

settings_reader::settings_reader(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {
  if (!object_.is_object()) throw settings_error(path_, "must be an object of settings");
}

std::string settings_reader::path_of(std::string_view key) const {
  return path_ + "/" + escape_pointer_token(key);
}

namespace {
thread_local std::vector<std::string>* recorded_paths = nullptr;
}  // namespace

setting_paths_recorder::setting_paths_recorder(std::vector<std::string>& into)
    : before_(recorded_paths) {
  recorded_paths = &into;
}

setting_paths_recorder::~setting_paths_recorder() {
  recorded_paths = before_;
}

bool recording_setting_paths() {
  return recorded_paths != nullptr;
}

void note_setting_path(std::string path) {
  if (recorded_paths) recorded_paths->push_back(std::move(path));
}

const nlohmann::json* settings_reader::find(std::string_view key) {
  asked_.emplace(key);
  if (recorded_paths) note_setting_path(path_of(key));
  auto it = object_.find(std::string(key));
  return it == object_.end() ? nullptr : &*it;
}

std::int64_t settings_reader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                      std::int64_t fallback) {
  auto value = find(key);
  if (!value) return fallback;
  if (!value->is_number_integer() || value->get<std::int64_t>() < min ||
      value->get<std::int64_t>() > max)
    throw settings_error(path_of(key), "must be an integer from " + std::to_string(min) + " to " +
                                           std::to_string(max));
  return value->get<std::int64_t>();
}

bool settings_reader::boolean(std::string_view key, bool fallback) {
  auto value = find(key);
  if (!value) return fallback;
  if (!value->is_boolean()) throw settings_error(path_of(key), "must be true or false");
  return value->get<bool>();
}

bool settings_reader::is_null(std::string_view key) {
  auto value = find(key);
  return value && value->is_null();
}

std::chrono::milliseconds settings_reader::milliseconds(std::string_view key, std::int64_t min_ms,
                                                        std::int64_t max_ms,
                                                        std::int64_t fallback_ms) {
  return std::chrono::milliseconds{integer(key, min_ms, max_ms, fallback_ms)};
}

double settings_reader::number(std::string_view key, double min, double max, double fallback) {
  auto value = find(key);
  if (!value) return fallback;
  if (!value->is_number() || value->get<double>() < min || value->get<double>() > max)
    throw settings_error(path_of(key), "must be a number from " + std::to_string(min) + " to " +
                                           std::to_string(max));
  return value->get<double>();
}

std::vector<std::string> settings_reader::strings(std::string_view key, std::size_t max_count,
                                                  std::size_t max_length,
                                                  std::vector<std::string> fallback) {
  auto value = find(key);
  if (!value) return fallback;
  auto wrong = [&] {
    return settings_error(path_of(key), "must be a list of at most " + std::to_string(max_count) +
                                            " strings of at most " + std::to_string(max_length) +
                                            " bytes");
  };
  if (!value->is_array() || value->size() > max_count) throw wrong();
  std::vector<std::string> out;
  for (auto& item : *value) {
    if (!item.is_string() || item.get_ref<const std::string&>().size() > max_length) throw wrong();
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string settings_reader::text(std::string_view key, std::size_t max_length,
                                  std::string fallback) {
  auto value = find(key);
  if (!value) return fallback;
  if (!value->is_string() || value->get_ref<const std::string&>().size() > max_length)
    throw settings_error(path_of(key),
                         "must be a string of at most " + std::to_string(max_length) + " bytes");
  return value->get<std::string>();
}

std::string settings_reader::optional_text(std::string_view key, std::size_t max_length,
                                           std::string fallback) {
  return is_null(key) ? fallback : text(key, max_length, std::move(fallback));
}

settings_reader settings_reader::section(std::string_view key) {
  static const nlohmann::json empty = nlohmann::json::object();
  auto value = find(key);
  return settings_reader{value ? *value : empty, path_of(key)};
}

std::vector<std::string> settings_reader::keys() const {
  std::vector<std::string> out;
  for (auto& [key, value] : object_.items()) out.push_back(key);
  return out;
}

void settings_reader::finish() const {
  for (auto& [key, value] : object_.items()) {
    if (asked_.count(key)) continue;
    std::string names;
    for (auto& name : asked_) names += (names.empty() ? "" : ", ") + name;
    throw settings_error(path_of(key), "unknown setting '" + key +
                                           "' (allowed: " + (names.empty() ? "none" : names) + ")");
  }
}

std::string with_placeholder(std::string text, std::string_view placeholder,
                             std::string_view value) {
  for (auto at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size()))
    text.replace(at, placeholder.size(), value);
  return text;
}

}  // namespace troupe
