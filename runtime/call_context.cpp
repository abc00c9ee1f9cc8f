#include "runtime/call_context.hpp"

#include <random>

namespace troupe {

std::string random_hex(std::size_t bytes) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  std::uint64_t pool = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    if (i % 8 == 0) pool = rng();
    auto byte = static_cast<unsigned>(pool & 0xff);
    pool >>= 8;
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 0xf]);
  }
  return out;
}

call_context make_call_context(std::string caller, std::chrono::milliseconds budget) {
  using namespace std::chrono;
  call_context ctx;
  ctx.trace_id = random_hex(16);
  ctx.span_id = random_hex(8);
  ctx.deadline_ms =
      duration_cast<milliseconds>(system_clock::now().time_since_epoch() + budget).count();
  ctx.caller = std::move(caller);
  return ctx;
}

std::chrono::milliseconds time_left(const call_context& ctx, std::chrono::milliseconds fallback) {
  using namespace std::chrono;
  if (ctx.deadline_ms == 0) return fallback;
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return milliseconds{std::max<std::int64_t>(0, ctx.deadline_ms - now)};
}

}  // namespace troupe
