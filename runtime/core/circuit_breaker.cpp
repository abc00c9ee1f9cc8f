#include "runtime/core/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>

namespace troupe {

namespace {

// The window is kept as this many slices; old slices fall out whole.
constexpr int slices = 10;

std::string seconds_text(std::chrono::milliseconds d) {
  auto tenths = (d.count() + 50) / 100;
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") +
         " s";
}

}  // namespace

circuit_breaker::circuit_breaker(breaker_settings settings, observer on_change)
    : settings_(settings),
      on_change_(std::move(on_change)),
      slice_(std::max<clock::duration>(settings.window / slices, std::chrono::milliseconds{1})),
      buckets_(slices) {}

const char* circuit_breaker::name(state s) {
  switch (s) {
    case state::closed:
      return "closed";
    case state::open:
      return "open";
    case state::half_open:
      return "half_open";
  }
  return "closed";
}

circuit_breaker::ticket circuit_breaker::admit(clock::time_point now) {
  ticket t;
  if (settings_.failure_ratio <= 0) {
    t.admitted = true;
    return t;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  if (state_ == state::open) {
    auto until = opened_at_ + settings_.open_for;
    if (now < until) {
      t.retry_in = until - now;
      return t;
    }
    move_to(state::half_open, "open for " + seconds_text(settings_.open_for) + ", trying again",
            now);
  }
  if (state_ == state::half_open) {
    if (trials_admitted_ >= settings_.trial_calls) {
      t.retry_in = settings_.open_for / 10;  // the trials under way decide before then
      return t;
    }
    ++trials_admitted_;
    t.admitted = true;
    t.trial = true;
    t.generation = generation_;
    return t;
  }
  t.admitted = true;
  return t;
}

void circuit_breaker::cancel(const ticket& t) {
  if (!t.trial) return;
  std::lock_guard<std::mutex> guard{mtx_};
  if (state_ == state::half_open && t.generation == generation_ && trials_admitted_ > 0)
    --trials_admitted_;
}

void circuit_breaker::record(const ticket& t, bool failed, clock::time_point now) {
  if (!t.admitted || settings_.failure_ratio <= 0) return;
  std::lock_guard<std::mutex> guard{mtx_};
  if (t.trial) {
    // A trial of an earlier cycle says nothing about this one.
    if (state_ != state::half_open || t.generation != generation_) return;
    if (failed) return move_to(state::open, "a trial call failed", now);
    if (++trials_passed_ >= settings_.trial_calls)
      move_to(state::closed, std::to_string(trials_passed_) + " trial calls succeeded", now);
    return;
  }
  // Calls admitted while closed that end after it opened do not count twice.
  if (state_ != state::closed) return;
  count(failed, now);
  int calls = 0, failures = 0;
  totals(now, calls, failures);
  if (calls >= settings_.minimum_calls &&
      failures >= static_cast<double>(calls) * settings_.failure_ratio)
    move_to(state::open,
            std::to_string(failures) + " of " + std::to_string(calls) + " calls failed in " +
                seconds_text(settings_.window),
            now);
}

void circuit_breaker::count(bool failed, clock::time_point now) {
  auto index = now.time_since_epoch() / slice_;
  auto& b = buckets_[static_cast<std::size_t>(index % slices)];
  if (b.index != index) b = bucket{index, 0, 0};
  ++b.calls;
  if (failed) ++b.failures;
}

void circuit_breaker::totals(clock::time_point now, int& calls, int& failures) const {
  auto index = now.time_since_epoch() / slice_;
  for (auto& b : buckets_)
    if (b.index >= 0 && b.index > index - slices && b.index <= index) {
      calls += b.calls;
      failures += b.failures;
    }
}

void circuit_breaker::move_to(state next, const std::string& why, clock::time_point now) {
  auto from = state_;
  state_ = next;
  last_reason_ = why;
  if (next == state::open) {
    opened_at_ = now;
    ++generation_;
  }
  if (next != state::closed) {
    trials_admitted_ = 0;
    trials_passed_ = 0;
  }
  // A closed breaker starts from an empty window: old failures opened it already.
  if (next == state::closed || next == state::open)
    std::fill(buckets_.begin(), buckets_.end(), bucket{});
  if (on_change_) on_change_(from, next, why);
}

circuit_breaker::state circuit_breaker::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_;
}

std::string circuit_breaker::describe() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::string out = name(state_);
  if (!last_reason_.empty()) out += " (" + last_reason_ + ")";
  return out;
}

}  // namespace troupe
