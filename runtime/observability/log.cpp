#include "runtime/observability/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>

#include "runtime/core/settings.hpp"
#include "runtime/core/time.hpp"

namespace troupe {

namespace {

// Written once by configure_logs before other threads start, read-only afterwards.
std::string& node_name() {
  static std::string name;
  return name;
}
std::atomic<int> min_level{static_cast<int>(log_level::info)};
std::atomic<int> format{static_cast<int>(log_format::json)};

const char* level_name(log_level level) {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
  }
  return "info";
}

// A JSON string's contents: quotes, backslashes and control characters escaped; bytes that
// are not UTF-8 replaced, so a line stays valid JSON whatever a message carries.
void append_escaped(std::string& out, std::string_view text) {
  static const char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // A whole UTF-8 sequence passes; anything else becomes U+FFFD.
      int extra = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
      bool whole = extra > 0 && i + static_cast<std::size_t>(extra) < text.size();
      for (int k = 1; whole && k <= extra; ++k)
        whole = (static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]) & 0xc0) == 0x80;
      if (whole) {
        out.append(text.substr(i, static_cast<std::size_t>(extra) + 1));
        i += static_cast<std::size_t>(extra);
      } else {
        out += "\\ufffd";
      }
    }
  }
}

void write(log_level level, std::string_view component, std::string_view message, trace_ids trace) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) return;
  auto stamp = format_utc_ms(unix_now_ms());
  std::string line;
  if (format.load(std::memory_order_relaxed) == static_cast<int>(log_format::json)) {
    line = log_line_json(stamp, level, node_name(), component, message, trace);
  } else {
    line = stamp + " " + level_name(level) + " " + std::string(component) + ": " +
           std::string(message);
    if (!trace.trace_id.empty()) line += " (trace " + std::string(trace.trace_id) + ")";
  }
  line += '\n';
  // One write per line keeps lines from different threads whole.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

std::string log_line_json(std::string_view time, log_level level, std::string_view node,
                          std::string_view component, std::string_view message, trace_ids trace) {
  std::string out;
  out.reserve(96 + message.size());
  out += "{\"time\":\"";
  append_escaped(out, time);
  out += "\",\"level\":\"";
  out += level_name(level);
  out += "\",\"node\":\"";
  append_escaped(out, node);
  out += "\",\"capability\":\"";
  append_escaped(out, component);
  out += '"';
  if (!trace.trace_id.empty()) {
    out += ",\"trace_id\":\"";
    append_escaped(out, trace.trace_id);
    out += '"';
  }
  if (!trace.span_id.empty()) {
    out += ",\"span_id\":\"";
    append_escaped(out, trace.span_id);
    out += '"';
  }
  out += ",\"message\":\"";
  append_escaped(out, message);
  out += "\"}";
  return out;
}

void configure_logs(std::string node, log_settings settings) {
  node_name() = std::move(node);
  min_level = static_cast<int>(settings.level);
  format = static_cast<int>(settings.format);
}

std::optional<log_level> parse_log_level(std::string_view text) {
  for (auto level : {log_level::debug, log_level::info, log_level::warn, log_level::error})
    if (text == level_name(level)) return level;
  return std::nullopt;
}

std::optional<log_format> parse_log_format(std::string_view text) {
  if (text == "json") return log_format::json;
  if (text == "text") return log_format::text;
  return std::nullopt;
}

void log_debug(std::string_view component, std::string_view message, trace_ids trace) {
  write(log_level::debug, component, message, trace);
}
void log_info(std::string_view component, std::string_view message, trace_ids trace) {
  write(log_level::info, component, message, trace);
}
bool log_budget::allow(std::int64_t now_ms, std::uint64_t& held_back) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (window_start_ms_ < 0 || now_ms - window_start_ms_ >= 1000) {
    window_start_ms_ = now_ms;
    written_ = 0;
  }
  if (written_ >= per_second_) {
    ++held_back_;
    return false;
  }
  ++written_;
  held_back = held_back_;
  held_back_ = 0;
  return true;
}

bool log_budget::allow(std::uint64_t& held_back) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
  return allow(now, held_back);
}

void log_warn(std::string_view component, std::string_view message, trace_ids trace) {
  write(log_level::warn, component, message, trace);
}
void log_error(std::string_view component, std::string_view message, trace_ids trace) {
  write(log_level::error, component, message, trace);
}

log_settings read_log_settings(settings_reader& r) {
  auto level = r.text("level", 8, "info");
  auto format = r.text("format", 8, "json");
  auto parsed_level = parse_log_level(level);
  if (!parsed_level)
    throw settings_error(r.path_of("level"), "must be \"debug\", \"info\", \"warn\" or \"error\"");
  auto parsed_format = parse_log_format(format);
  if (!parsed_format) throw settings_error(r.path_of("format"), "must be \"json\" or \"text\"");
  return {*parsed_level, *parsed_format, r.boolean("access", false)};
}

}  // namespace troupe
