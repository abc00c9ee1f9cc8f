#include "runtime/core/backoff.hpp"

#include <algorithm>
#include <random>

namespace troupe {

std::chrono::milliseconds backoff_delay(const backoff_policy& policy, int attempt) {
  auto shift = std::clamp(attempt, 0, 20);
  auto delay = std::min<std::chrono::milliseconds>(policy.min * (1LL << shift), policy.max);
  auto spread = static_cast<long>(static_cast<double>(delay.count()) * policy.jitter);
  if (spread <= 0) return delay;
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<long> jitter(0, spread);
  return delay + std::chrono::milliseconds{jitter(rng)};
}

}  // namespace troupe
