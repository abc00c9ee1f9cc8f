// Logs on stderr, one line each, whole even when threads write at once. As JSON objects for
// log collectors: {"time", "level", "node", "capability", "trace_id", "span_id", "message"}
// (trace and span only for lines about a request or a saga), or as text for people:
// "time LEVEL capability: message". Lines below the configured level are dropped.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace troupe {

enum class log_level { debug, info, warn, error };
enum class log_format { json, text };

// The topology's "logs": {"level": "info", "format": "json", "access": false}.
struct log_settings {
  log_level level = log_level::info;
  log_format format = log_format::json;
  bool access = false;  // an access-log line per gateway request (component "access")
};

class settings_reader;

// Reads the topology's "logs". Throws settings_error.
log_settings read_log_settings(settings_reader& r);

// Once at start, before threads log: the node's name for every line, level and format.
void configure_logs(std::string node, log_settings settings);

// "debug", "info", "warn", "error" / "json", "text"; nullopt for anything else.
std::optional<log_level> parse_log_level(std::string_view text);
std::optional<log_format> parse_log_format(std::string_view text);

// The trace a line is about (W3C ids: 32 and 16 hex digits); empty: none.
struct trace_ids {
  std::string_view trace_id;
  std::string_view span_id;
};

// `component` is the capability or runtime part writing ("orders", "directory", "http").
void log_debug(std::string_view component, std::string_view message, trace_ids trace = {});
void log_info(std::string_view component, std::string_view message, trace_ids trace = {});
void log_warn(std::string_view component, std::string_view message, trace_ids trace = {});
void log_error(std::string_view component, std::string_view message, trace_ids trace = {});

// A bound on how often one kind of line is written, for lines a client or peer can cause
// at will (a refused token, a refused call): at most `per_second` a second; the lines held
// back are counted and the next line let through says how many. Thread-safe.
class log_budget {
 public:
  explicit log_budget(int per_second) : per_second_(per_second) {}
  // Whether a line may be written now (`now_ms`: a steady clock in milliseconds); when it
  // may, `held_back` is set to the lines refused since the last one written.
  bool allow(std::int64_t now_ms, std::uint64_t& held_back);
  // The same on the steady clock.
  bool allow(std::uint64_t& held_back);

 private:
  std::mutex mutex_;
  int per_second_;
  std::int64_t window_start_ms_ = -1;
  int written_ = 0;
  std::uint64_t held_back_ = 0;
};

// The JSON line log_* would write (without its newline); for tests.
std::string log_line_json(std::string_view time, log_level level, std::string_view node,
                          std::string_view component, std::string_view message, trace_ids trace);

}  // namespace troupe
