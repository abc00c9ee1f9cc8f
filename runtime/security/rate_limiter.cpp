#include "runtime/security/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace troupe::security {

namespace {

constexpr std::size_t shard_count = 16;

std::int64_t ceil_seconds(double s) {
  return static_cast<std::int64_t>(std::ceil(std::max(0.0, s) - 1e-9));
}

bool is_trusted(std::string_view address, const std::vector<std::string>& trusted) {
  return std::find(trusted.begin(), trusted.end(), address) != trusted.end();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An IPv4 or IPv6 address as text: hex digits, dots and colons only, 2 to 45 characters.
bool plausible_address(std::string_view s) {
  return s.size() >= 2 && s.size() <= 45 &&
         s.find_first_not_of("0123456789abcdefABCDEF.:") == std::string_view::npos;
}

}  // namespace

bool rate_limiter::bucket::full_at(clock::time_point now) const {
  auto elapsed = std::chrono::duration<double>(now - last).count();
  return tokens + elapsed * per_second >= capacity;
}

rate_limiter::rate_limiter(std::size_t max_buckets)
    : per_shard_(std::max<std::size_t>(1, max_buckets / shard_count)) {
  for (std::size_t i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<shard>());
}

void rate_limiter::make_room(shard& s, clock::time_point now) {
  // Refilled buckets carry no information: drop them all first.
  for (auto it = s.buckets.begin(); it != s.buckets.end();)
    it = it->second.full_at(now) ? s.buckets.erase(it) : std::next(it);
  if (s.buckets.size() < per_shard_) return;
  auto oldest = std::min_element(s.buckets.begin(), s.buckets.end(),
                                 [](auto& a, auto& b) { return a.second.last < b.second.last; });
  s.buckets.erase(oldest);
}

rate_decision rate_limiter::take(std::string_view key, const rate_limit& limit,
                                 clock::time_point now) {
  auto& s = *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
  std::lock_guard<std::mutex> guard{s.mtx};
  auto it = s.buckets.find(std::string(key));
  auto capacity = static_cast<double>(limit.requests);
  auto per_second = capacity / static_cast<double>(std::max<std::int64_t>(1, limit.window.count()));
  if (it == s.buckets.end()) {
    if (s.buckets.size() >= per_shard_) make_room(s, now);
    it = s.buckets.emplace(std::string(key), bucket{capacity, now, capacity, per_second}).first;
  }
  auto& b = it->second;
  // A limit changed by a new configuration applies from now on.
  b.capacity = capacity;
  b.per_second = per_second;
  auto elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(capacity, b.tokens + std::max(0.0, elapsed) * per_second);
  b.last = std::max(b.last, now);
  rate_decision d;
  d.limit = limit.requests;
  d.allowed = b.tokens >= 1.0 - 1e-9;  // refill arithmetic in doubles lands just under
  if (d.allowed) b.tokens = std::max(0.0, b.tokens - 1.0);
  d.remaining = static_cast<std::int64_t>(std::floor(b.tokens + 1e-9));
  d.reset_s = ceil_seconds((capacity - b.tokens) / per_second);
  if (!d.allowed)
    d.retry_after_s = std::max<std::int64_t>(1, ceil_seconds((1.0 - b.tokens) / per_second));
  return d;
}

std::size_t rate_limiter::buckets() const {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard<std::mutex> guard{s->mtx};
    n += s->buckets.size();
  }
  return n;
}

std::string client_of(std::string_view peer, std::string_view forwarded_for,
                      const std::vector<std::string>& trusted_proxies) {
  if (forwarded_for.empty() || !is_trusted(peer, trusted_proxies)) return std::string(peer);
  // Right to left: each hop appended the address it saw; stop at the first one not ours.
  // Only the last 1 KiB matters (16 hops at most); what a client wrote before is cut.
  std::string_view rest = forwarded_for;
  if (rest.size() > 1024) {
    rest = rest.substr(rest.size() - 1024);
    auto comma = rest.find(',');
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  for (int hops = 0; hops < 16 && !rest.empty(); ++hops) {
    auto comma = rest.rfind(',');
    auto hop = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    if (!plausible_address(hop)) return std::string(peer);
    if (!is_trusted(hop, trusted_proxies)) return std::string(hop);
  }
  return std::string(peer);
}

}  // namespace troupe::security
