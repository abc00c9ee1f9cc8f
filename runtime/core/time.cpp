#include "runtime/core/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace troupe {

std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_utc_ms(std::int64_t unix_ms) {
  auto secs = unix_ms / 1000;
  auto ms = unix_ms % 1000;
  if (ms < 0) {  // before 1970: floor, so the milliseconds stay positive
    ms += 1000;
    --secs;
  }
  auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

}  // namespace troupe
