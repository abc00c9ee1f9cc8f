// A circuit breaker: one per callee capability on a node, shared by every caller there.
//
//   closed     calls pass; their outcomes fill a sliding window. Once it holds at least
//              `minimum_calls` and the failed share reaches `failure_ratio`, it opens.
//   open       calls are refused at once, without being sent, for `open_for`.
//   half_open  then up to `trial_calls` calls pass; all of them succeeding closes it, any
//              of them failing opens it again for another `open_for`.
//
// Only what says the callee is not answering counts as a failure (the caller decides:
// timeouts, a lost handle, a stopped callee); a domain rejection is an answer, a success
// here. Plain C++, thread-safe, time passed in: testable without a clock or actors.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace troupe {

struct breaker_settings {
  double failure_ratio = 0.5;  // of the calls in the window; 0 turns the breaker off
  std::chrono::milliseconds window{10000};
  int minimum_calls = 10;  // in the window before the ratio means anything
  std::chrono::milliseconds open_for{5000};
  int trial_calls = 3;  // let through while half-open
};

class circuit_breaker {
 public:
  using clock = std::chrono::steady_clock;
  enum class state : std::uint8_t { closed = 0, open = 1, half_open = 2 };

  // What admit() decided; hand it back to record() with the call's outcome.
  struct ticket {
    bool admitted = false;
    bool trial = false;
    std::uint64_t generation = 0;  // of the open/half-open cycle a trial belongs to
    clock::duration retry_in{};    // when refused: until the next trial may pass
  };

  // Told of every change of state (under the breaker's lock: do not call back into it).
  using observer = std::function<void(state from, state to, const std::string& why)>;

  explicit circuit_breaker(breaker_settings settings = {}, observer on_change = {});

  ticket admit(clock::time_point now);
  // `failed`: the call's outcome said the callee is not answering.
  void record(const ticket& t, bool failed, clock::time_point now);
  // A ticket admitted but never used (the call was refused for another reason before it was
  // sent): gives a trial slot back.
  void cancel(const ticket& t);

  state current() const;
  // "open: 12 of 20 calls failed in the last 10 s", for error messages and health.
  std::string describe() const;
  const breaker_settings& settings() const { return settings_; }

  static const char* name(state s);

 private:
  struct bucket {
    std::int64_t index = -1;  // window slice this bucket counts, -1: empty
    int calls = 0;
    int failures = 0;
  };
  void count(bool failed, clock::time_point now);
  void totals(clock::time_point now, int& calls, int& failures) const;
  void move_to(state next, const std::string& why, clock::time_point now);

  breaker_settings settings_;
  observer on_change_;
  clock::duration slice_;
  mutable std::mutex mtx_;
  state state_ = state::closed;
  std::vector<bucket> buckets_;
  clock::time_point opened_at_{};
  std::uint64_t generation_ = 0;
  int trials_admitted_ = 0;
  int trials_passed_ = 0;
  std::string last_reason_;
};

}  // namespace troupe
