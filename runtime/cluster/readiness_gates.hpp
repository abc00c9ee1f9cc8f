// Conditions a capability holds while it is not ready to serve although it has started, such
// as sagas being recovered. The directory reports each held gate as a failing /ready check, so
// a node says ready (and prints its ready line) only once every gate is released.
// Thread-safe: capabilities hold and release from their actors, the directory reads.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/core/atoms.hpp"

namespace troupe {

class readiness_gates {
 public:
  // Holds (or updates) the gate `name` with why it is held.
  void hold(const std::string& name, const std::string& why) {
    std::lock_guard<std::mutex> lock{mtx_};
    held_[name] = why;
  }
  void release(const std::string& name) {
    std::lock_guard<std::mutex> lock{mtx_};
    held_.erase(name);
  }
  std::vector<health_check> held() const {
    std::lock_guard<std::mutex> lock{mtx_};
    std::vector<health_check> out;
    for (auto& [name, why] : held_) out.push_back({name, false, why});
    return out;
  }

 private:
  mutable std::mutex mtx_;
  std::map<std::string, std::string> held_;
};

}  // namespace troupe
