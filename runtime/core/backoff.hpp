// Exponential backoff with jitter, the one used for every retry in troupe (reconnecting to
// nodes, restarting capabilities, pausing an acceptor, and later saga steps).
#pragma once

#include <chrono>

namespace troupe {

struct backoff_policy {
  std::chrono::milliseconds min{50};
  std::chrono::milliseconds max{1000};
  // Up to this fraction of the delay is added at random, so that many peers retrying the
  // same thing do not do it in lockstep.
  double jitter = 0.2;
};

// The delay before retry number `attempt` (0 for the first retry): min * 2^attempt, capped
// at max, plus jitter. Thread-safe.
std::chrono::milliseconds backoff_delay(const backoff_policy& policy, int attempt);

}  // namespace troupe
