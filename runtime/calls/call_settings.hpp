// The topology's "calls": the caller's bounds, circuit breakers and queue bounds, for every
// callee or per callee, read and checked.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "runtime/core/circuit_breaker.hpp"
#include "runtime/core/settings.hpp"

namespace troupe {

// "calls": the caller's bounds and circuit breakers.
struct call_settings {
  int max_in_flight = 1024;  // per callee, from one node
  breaker_settings breaker;  // every callee's, unless per_callee says otherwise
  // Work a capability picks up after waiting longer than this in its queues is shed (503 +
  // Retry-After, core/error.hpp refuse_late). 0: no bound.
  std::chrono::milliseconds max_queue{1000};
  struct callee_settings {
    breaker_settings breaker;
    std::chrono::milliseconds max_queue;
  };
  std::map<std::string, callee_settings> per_callee;

  const breaker_settings& breaker_for(const std::string& callee) const {
    auto it = per_callee.find(callee);
    return it == per_callee.end() ? breaker : it->second.breaker;
  }
  std::chrono::milliseconds max_queue_for(const std::string& callee) const {
    auto it = per_callee.find(callee);
    return it == per_callee.end() ? max_queue : it->second.max_queue;
  }
};

// Reads "calls"; "per_callee" keys must be among `capabilities`. Throws settings_error.
call_settings read_call_settings(settings_reader& r, const std::vector<std::string>& capabilities);

// A circuit breaker's settings; absent keys keep `base`'s. Throws settings_error.
breaker_settings read_breaker_settings(settings_reader& r, const breaker_settings& base);

}  // namespace troupe
