// Reading a JSON object of settings into a typed struct, once, when the topology is read.
// Problems are reported with their JSON path, so a bad value is refused before anything
// starts (exit 2), naming where it is.
//
//   users_settings s;
//   s.cache_entries = reader.integer("cache_entries", 0, 10'000'000, 10'000);
//   reader.finish();  // refuses keys nobody asked for
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace troupe {

class settings_error : public std::runtime_error {
 public:
  settings_error(std::string path, std::string problem)
      : std::runtime_error(path + ": " + problem),
        path_(std::move(path)),
        problem_(std::move(problem)) {}
  const std::string& path() const { return path_; }  // JSON pointer, e.g. /capabilities/users
  const std::string& problem() const { return problem_; }

 private:
  std::string path_, problem_;
};

class settings_reader {
 public:
  // `object` must outlive the reader; `path` is its JSON pointer (for messages). Throws
  // settings_error when `object` is not an object.
  settings_reader(const nlohmann::json& object, std::string path);

  // An integer within [min, max], or `fallback` when the key is absent.
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max,
                       std::int64_t fallback);
  std::chrono::milliseconds milliseconds(std::string_view key, std::int64_t min_ms,
                                         std::int64_t max_ms, std::int64_t fallback_ms);

  // A number (integer or not) within [min, max].
  double number(std::string_view key, double min, double max, double fallback);
  // A list of at most `max_count` strings of at most `max_length` bytes each.
  std::vector<std::string> strings(std::string_view key, std::size_t max_count,
                                   std::size_t max_length, std::vector<std::string> fallback);
  // true or false.
  bool boolean(std::string_view key, bool fallback);
  // Whether the key is present and null (JSON's way of saying "not given").
  bool is_null(std::string_view key);
  // A string of at most `max_length` bytes.
  std::string text(std::string_view key, std::size_t max_length, std::string fallback);
  // The same, with null taken as absent (optional settings such as files).
  std::string optional_text(std::string_view key, std::size_t max_length, std::string fallback);

  // A reader of the object at `key` ({} when absent); call its finish() too.
  settings_reader section(std::string_view key);
  // The keys of this object, in order.
  std::vector<std::string> keys() const;

  // Throws for every key no reader call asked for, naming the allowed ones.
  void finish() const;

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const;

 private:
  const nlohmann::json* find(std::string_view key);

  const nlohmann::json& object_;
  std::string path_;
  std::set<std::string, std::less<>> asked_;
};

// While one lives, every key path settings readers on this thread ask for, and that the
// topology's own checks allow, is added to `into`: how a test lists every topology key the
// code reads, so that the reference cannot miss one.
class setting_paths_recorder {
 public:
  explicit setting_paths_recorder(std::vector<std::string>& into);
  ~setting_paths_recorder();
  setting_paths_recorder(const setting_paths_recorder&) = delete;
  setting_paths_recorder& operator=(const setting_paths_recorder&) = delete;

 private:
  std::vector<std::string>* before_;
};
// Whether a recorder lives on this thread, and noting `path` for it (nothing without one).
bool recording_setting_paths();
void note_setting_path(std::string path);

// `text` with every `placeholder` ("{node}") replaced by `value`.
std::string with_placeholder(std::string text, std::string_view placeholder,
                             std::string_view value);

// Escapes a key for a JSON pointer ("~" -> "~0", "/" -> "~1").
std::string escape_pointer_token(std::string_view key);

}  // namespace troupe
