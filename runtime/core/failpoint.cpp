#include "runtime/core/failpoint.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace troupe {

namespace {

struct armed {
  failpoint_action action = failpoint_action::none;
  long remaining = -1;  // -1: unlimited
  long skip = 0;        // passes that go by before it fires
  long hang_ms = 60000;
};

struct registry {
  std::atomic<bool> any{false};
  std::mutex mtx;
  std::map<std::string, armed, std::less<>> points;
};

registry& the_registry() {
  static registry r;
  return r;
}

armed parse_action(const std::string& entry, std::string text) {
  armed a;
  if (auto at = text.find('@'); at != std::string::npos) {
    auto count = text.substr(at + 1);
    char* end = nullptr;
    a.skip = std::strtol(count.c_str(), &end, 10);
    if (count.empty() || *end != '\0' || a.skip < 0)
      throw std::invalid_argument("failpoint '" + entry + "': passes after '@' must be >= 0");
    text = text.substr(0, at);
  }
  if (auto star = text.find('*'); star != std::string::npos) {
    auto count = text.substr(star + 1);
    char* end = nullptr;
    a.remaining = std::strtol(count.c_str(), &end, 10);
    if (count.empty() || *end != '\0' || a.remaining < 1)
      throw std::invalid_argument("failpoint '" + entry + "': count after '*' must be >= 1");
    text = text.substr(0, star);
  }
  if (text.rfind("hang", 0) == 0) {
    a.action = failpoint_action::hang;
    if (text.size() > 4) {
      auto ms = text.substr(5);
      char* end = nullptr;
      a.hang_ms = std::strtol(ms.c_str(), &end, 10);
      if (text[4] != ':' || ms.empty() || *end != '\0' || a.hang_ms < 0)
        throw std::invalid_argument("failpoint '" + entry + "': write hang or hang:MILLISECONDS");
    }
    return a;
  }
  if (text == "crash")
    a.action = failpoint_action::crash;
  else if (text == "error")
    a.action = failpoint_action::error;
  else if (text == "exit")
    a.action = failpoint_action::exit;
  else
    throw std::invalid_argument("failpoint '" + entry +
                                "': unknown action (crash, error, hang[:ms], exit)");
  return a;
}

}  // namespace

namespace {

std::map<std::string, armed, std::less<>> parse_spec(const std::string& spec) {
  std::map<std::string, armed, std::less<>> points;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto comma = spec.find(',', start);
    auto entry = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    if (entry.empty()) continue;
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("failpoint '" + entry + "': write NAME=ACTION");
    points[entry.substr(0, eq)] = parse_action(entry, entry.substr(eq + 1));
  }
  return points;
}

}  // namespace

void check_failpoints(const std::string& spec) {
  parse_spec(spec);
}

void configure_failpoints(const std::string& spec, bool add) {
  auto points = parse_spec(spec);
  auto& r = the_registry();
  std::lock_guard<std::mutex> guard{r.mtx};
  if (add)
    for (auto& [name, a] : points) r.points[name] = a;
  else
    r.points = std::move(points);
  r.any = !r.points.empty();
}

void configure_failpoints_from_env() {
  if (auto spec = std::getenv("TROUPE_FAILPOINTS"); spec && *spec) configure_failpoints(spec);
}

bool failpoint(std::string_view name) {
  auto& r = the_registry();
  if (!r.any.load(std::memory_order_relaxed)) return false;
  armed fired;
  {
    std::lock_guard<std::mutex> guard{r.mtx};
    auto it = r.points.find(name);
    if (it == r.points.end() || it->second.remaining == 0) return false;
    if (it->second.skip > 0) {
      --it->second.skip;
      return false;
    }
    if (it->second.remaining > 0) --it->second.remaining;
    fired = it->second;
  }
  switch (fired.action) {
    case failpoint_action::crash:
      throw std::runtime_error("failpoint " + std::string(name) + ": crash");
    case failpoint_action::hang:
      std::this_thread::sleep_for(std::chrono::milliseconds{fired.hang_ms});
      return false;
    case failpoint_action::exit:
      std::fprintf(stderr, "failpoint %.*s: exit\n", static_cast<int>(name.size()), name.data());
      std::_Exit(137);
    case failpoint_action::error:
      return true;
    case failpoint_action::none:
      break;
  }
  return false;
}

}  // namespace troupe
