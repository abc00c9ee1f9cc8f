#include "runtime/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace troupe {

namespace {

void write(const char* level, std::string_view component, std::string_view message) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  // One fprintf per line keeps lines from different threads whole.
  std::fprintf(stderr, "%s.%03dZ %s %.*s: %.*s\n", stamp, static_cast<int>(ms), level,
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
