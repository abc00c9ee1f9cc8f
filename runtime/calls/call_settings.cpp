#include "runtime/calls/call_settings.hpp"

#include <algorithm>

namespace troupe {

breaker_settings read_breaker_settings(settings_reader& r, const breaker_settings& base) {
  breaker_settings b;
  b.failure_ratio = r.number("failure_ratio", 0.0, 1.0, base.failure_ratio);
  b.window = r.milliseconds("window_ms", 100, 3'600'000, base.window.count());
  b.minimum_calls = static_cast<int>(r.integer("minimum_calls", 1, 1'000'000, base.minimum_calls));
  b.open_for = r.milliseconds("open_ms", 10, 3'600'000, base.open_for.count());
  b.trial_calls = static_cast<int>(r.integer("trial_calls", 1, 1000, base.trial_calls));
  r.finish();
  return b;
}

call_settings read_call_settings(settings_reader& r, const std::vector<std::string>& capabilities) {
  call_settings calls;
  calls.max_in_flight =
      static_cast<int>(r.integer("max_in_flight", 1, 1'000'000, calls.max_in_flight));
  auto defaults = r.section("breaker");
  calls.breaker = read_breaker_settings(defaults, calls.breaker);
  calls.max_queue = r.milliseconds("max_queue_ms", 0, 3'600'000, calls.max_queue.count());
  auto per_callee = r.section("per_callee");
  for (auto& name : per_callee.keys()) {
    if (std::find(capabilities.begin(), capabilities.end(), name) == capabilities.end()) {
      std::string known;
      for (auto& c : capabilities) known += (known.empty() ? "" : ", ") + c;
      throw settings_error(per_callee.path_of(name),
                           "unknown capability '" + name + "' (known: " + known + ")");
    }
    auto callee = per_callee.section(name);
    auto breaker = callee.section("breaker");
    auto& mine = calls.per_callee[name];
    mine.breaker = read_breaker_settings(breaker, calls.breaker);
    mine.max_queue = callee.milliseconds("max_queue_ms", 0, 3'600'000, calls.max_queue.count());
    callee.finish();
  }
  per_callee.finish();
  return calls;
}

}  // namespace troupe
