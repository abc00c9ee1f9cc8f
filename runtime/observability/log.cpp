#include "runtime/observability/log.hpp"

#include <cstdio>

#include "runtime/core/time.hpp"

namespace troupe {

namespace {

void write(const char* level, std::string_view component, std::string_view message) {
  auto stamp = format_utc_ms(unix_now_ms());
  // One fprintf per line keeps lines from different threads whole.
  std::fprintf(stderr, "%s %s %.*s: %.*s\n", stamp.c_str(), level,
               static_cast<int>(component.size()), component.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace

void log_info(std::string_view component, std::string_view message) {
  write("INFO", component, message);
}
void log_warn(std::string_view component, std::string_view message) {
  write("WARN", component, message);
}
void log_error(std::string_view component, std::string_view message) {
  write("ERROR", component, message);
}

}  // namespace troupe
