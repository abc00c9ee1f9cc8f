#include "runtime/core/ids.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>

#include "runtime/core/time.hpp"

namespace troupe {

std::string random_hex(std::size_t bytes) {
  std::string out;
  random_hex(bytes, out);
  return out;
}

void random_hex(std::size_t bytes, std::string& out) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  out.clear();
  out.reserve(bytes * 2);
  std::uint64_t pool = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    if (i % 8 == 0) pool = rng();
    auto byte = static_cast<unsigned>(pool & 0xff);
    pool >>= 8;
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0xf]);
  }
}

namespace {

std::string hex_of(std::uint64_t value, int digits) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace

std::string time_ordered_hex() {
  return hex_of(static_cast<std::uint64_t>(unix_now_ms()), 12) + random_hex(10);
}

std::uint64_t time_ordered_id64() {
  static std::atomic<std::uint64_t> counter{std::random_device{}()};
  auto ms = static_cast<std::uint64_t>(unix_now_ms());
  auto n = counter.fetch_add(1, std::memory_order_relaxed);
  return (ms << 20) | (n & 0xfffff);
}

std::string time_ordered_hex64() {
  return hex_of(time_ordered_id64(), 16);
}

}  // namespace troupe
