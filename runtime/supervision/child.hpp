// A supervised child's current actor. A capability's actors hold one of these for a sibling
// instead of its handle: under one-for-one the supervisor restarts the sibling alone and
// swaps the actor in here, so the holders keep working with the new one. Readable from any
// thread; reading costs one atomic load while the actor has not changed (see cached()).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <caf/actor.hpp>

namespace troupe {

class child_ref {
 public:
  explicit child_ref(std::string name, caf::actor current = {})
      : name_(std::move(name)), current_(std::move(current)) {}

  const std::string& name() const { return name_; }
  // Null while the child is restarting, or after its supervisor gave up.
  caf::actor get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return current_;
  }
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

  // The supervisor's side.
  void set(caf::actor a) {
    std::lock_guard<std::mutex> guard{mtx_};
    current_ = std::move(a);
    epoch_.fetch_add(1, std::memory_order_release);
  }

  // One reader's copy, re-read only when the epoch moved. Not thread-safe: one per reader.
  class cached {
   public:
    const caf::actor& get(const child_ref& ref) {
      auto now = ref.epoch();
      if (!read_ || now != epoch_) {
        actor_ = ref.get();
        epoch_ = now;
        read_ = true;
      }
      return actor_;
    }

   private:
    bool read_ = false;
    std::uint64_t epoch_ = 0;
    caf::actor actor_;
  };

 private:
  std::string name_;
  mutable std::mutex mtx_;
  caf::actor current_;
  std::atomic<std::uint64_t> epoch_{0};
};

// Given to a capability's spawn (capability_context::supervise): spawns the child now with
// `start`, and again after it crashes, as the capability's strategy says. Call it only from
// within the spawn function (it runs inside the supervisor).
using supervise_function = std::function<std::shared_ptr<child_ref>(
    const std::string& name, std::function<caf::actor()> start)>;

}  // namespace troupe
