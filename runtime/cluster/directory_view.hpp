// The directory's read side: for every capability a node hosts or calls, the current handle
// (or why there is none), readable from any thread without a message round trip.
//
// The directory actor is the only writer. It updates the view before it reports a change or
// readiness, so once /ready says 200 every reader sees every handle: there is no window in
// which a caller still waits for a subscription update. Each slot has an epoch that changes
// whenever its handle does; callers keep the epoch a call was sent under, and a changed epoch
// means the handle that call went to is gone (its node was lost or the capability restarted).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include "runtime/core/circuit_breaker.hpp"
#include "runtime/observability/metrics.hpp"

namespace troupe {

class directory_view {
 public:
  // Makes the circuit breaker of the named callee (settings, and who is told of changes).
  using breaker_factory = std::function<std::unique_ptr<circuit_breaker>(const std::string&)>;

  // `max_in_flight`: calls from this node that may be waiting for one capability at once.
  // Without `make_breaker`, every callee gets a breaker with the default settings.
  directory_view(std::vector<std::string> capabilities, int max_in_flight,
                 const breaker_factory& make_breaker = {});

  std::optional<std::size_t> index_of(std::string_view capability) const;
  const std::string& name_of(std::size_t slot) const { return slots_[slot]->name; }
  std::size_t size() const { return slots_.size(); }

  // Reading, from any thread.
  std::uint64_t epoch(std::size_t slot) const {
    return slots_[slot]->epoch.load(std::memory_order_acquire);
  }
  // The handle (null while unavailable) and the epoch it belongs to.
  caf::actor handle(std::size_t slot, std::uint64_t* epoch = nullptr) const;
  std::string why_unavailable(std::size_t slot) const;

  // Bounding calls in flight per capability, node-wide, from any thread: try_acquire fails
  // when `max_in_flight` calls are already waiting; each success needs one release.
  bool try_acquire(std::size_t slot) {
    auto& n = slots_[slot]->in_flight;
    if (n.fetch_add(1, std::memory_order_relaxed) >= max_in_flight_) {
      n.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void release(std::size_t slot) {
    slots_[slot]->in_flight.fetch_sub(1, std::memory_order_relaxed);
  }
  int in_flight(std::size_t slot) const {
    return slots_[slot]->in_flight.load(std::memory_order_relaxed);
  }
  int max_in_flight() const { return max_in_flight_; }

  // The callee's circuit breaker, node-wide like the in-flight bound (see calls/caller.hpp).
  circuit_breaker& breaker(std::size_t slot) const { return *slots_[slot]->breaker; }
  // What the callers of this node count of their calls to the callee (nothing until
  // count_calls). Call count_calls before any caller uses the view.
  const call_metrics& calls(std::size_t slot) const { return slots_[slot]->calls; }
  void count_calls(metrics& sink);

  // One reader's copy of a slot's handle, re-read (under the slot's lock) only when the
  // slot's epoch moved, so reading costs one atomic load. Not thread-safe: one per reader
  // (an actor's state, a thread_local).
  class cached_handle {
   public:
    const caf::actor& get(const directory_view& view, std::size_t slot) {
      if (view_ != &view || slot_ != slot || epoch_ != view.epoch(slot)) {
        handle_ = view.handle(slot, &epoch_);
        view_ = &view;
        slot_ = slot;
      }
      return handle_;
    }
    std::uint64_t epoch() const { return epoch_; }  // of the handle get() returned last

   private:
    const directory_view* view_ = nullptr;
    std::size_t slot_ = 0;
    std::uint64_t epoch_ = 0;
    caf::actor handle_;
  };

  // Writing: the directory actor only. A null handle means unavailable for `why`. The epoch
  // changes only when the handle does, and then every watcher gets a call_tick_atom.
  // `still_answering`: the old actor stopped on a node that is still connected (or here), so
  // CAF answers the calls it did not process (request_receiver_down) and callers wait a little
  // for those answers; false: its node was lost, and so are the answers.
  void set(std::size_t slot, caf::actor handle, std::string why, bool still_answering = false);
  // How the slot's last handle went (see set()).
  bool dropped_still_answering(std::size_t slot) const {
    return slots_[slot]->still_answering.load(std::memory_order_acquire);
  }

  // Actors waiting for calls (calls/caller.hpp) watch the view while they do: a changed
  // handle fails their calls to it at once, with no periodic polling.
  void watch(const caf::actor_addr& who);
  void unwatch(const caf::actor_addr& who);

 private:
  struct slot {
    std::string name;
    std::atomic<std::uint64_t> epoch{0};
    std::atomic<int> in_flight{0};
    std::atomic<bool> still_answering{false};
    mutable std::mutex mtx;
    caf::actor handle;
    std::string why = "not resolved yet";
    std::unique_ptr<circuit_breaker> breaker;
    call_metrics calls;
  };
  std::vector<std::unique_ptr<slot>> slots_;
  int max_in_flight_;
  std::mutex watchers_mtx_;
  std::set<caf::actor_addr> watchers_;
};

}  // namespace troupe
