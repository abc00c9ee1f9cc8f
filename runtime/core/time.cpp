#include "runtime/core/time.hpp"

#include <chrono>

namespace troupe {

std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

// Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm; proleptic Gregorian).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  auto era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

void put_digits(char*& out, std::int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out += width;
}

}  // namespace

std::string format_utc_ms(std::int64_t unix_ms) {
  // Written digit by digit: this runs for every rendered timestamp, and strftime with
  // snprintf cost more than the rest of a user's JSON.
  // ISO 8601's four-digit years only (0000-01-01 to 9999-12-31), checked before any
  // arithmetic so that no input can overflow it.
  constexpr std::int64_t first_ms = -62'167'219'200'000, last_ms = 253'402'300'799'999;
  if (unix_ms < first_ms || unix_ms > last_ms) return std::to_string(unix_ms) + "ms";
  auto days = unix_ms >= 0 ? unix_ms / 86'400'000 : (unix_ms - 86'399'999) / 86'400'000;
  auto in_day = unix_ms - days * 86'400'000;
  std::int64_t year;
  unsigned month, day;
  civil_from_days(days, year, month, day);
  char buf[32];
  char* out = buf;
  put_digits(out, year, 4);
  *out++ = '-';
  put_digits(out, month, 2);
  *out++ = '-';
  put_digits(out, day, 2);
  *out++ = 'T';
  put_digits(out, in_day / 3'600'000, 2);
  *out++ = ':';
  put_digits(out, in_day / 60'000 % 60, 2);
  *out++ = ':';
  put_digits(out, in_day / 1000 % 60, 2);
  *out++ = '.';
  put_digits(out, in_day % 1000, 3);
  *out++ = 'Z';
  return std::string(buf, out);
}

}  // namespace troupe
