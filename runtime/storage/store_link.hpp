// A capability front's link to its detached store: requests go through it with a bound on
// how many may wait, so a stalled store (a lock, a slow disk) cannot pile up requests
// without end behind callers that have stopped waiting. The store is a supervised child
// (supervision/child.hpp): while it restarts, requests are refused as unavailable, and the
// restarted store is used as soon as it is there. Requests the store held when it went down
// are answered outcome_unknown at once.
//
// The front answers its callers itself (not `delegate`): a delegated reply would come from
// the detached store, which exposes it to remote callers, and CAF then keeps it alive while
// a peer holds the proxy, so the node's shutdown would wait for its thread forever.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>

#include <caf/abstract_actor.hpp>
#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/result.hpp>
#include <caf/system_messages.hpp>

#include "runtime/core/error.hpp"
#include "runtime/observability/metrics.hpp"
#include "runtime/storage/sqlite.hpp"
#include "runtime/supervision/child.hpp"

namespace troupe {

// A capability's store as a child named "store": supervised (restarted alone under
// one-for-one) when `supervise` is set, else spawned once. `behavior(self, path, commits)`
// runs on a thread of its own when `detached`. A database that cannot be opened fails the start
// itself (counted by the supervisor before the capability registers), not the store right after it.
template <class Behavior>
std::shared_ptr<child_ref> spawn_store(caf::actor_system& system,
                                       const supervise_function& supervise, Behavior behavior,
                                       const std::string& path, bool detached,
                                       commit_metrics commits = {}) {
  auto start = [&system, behavior, path, detached, commits] {
    { sqlite::database probe{path}; }
    return detached ? system.spawn<caf::detached>(behavior, path, commits)
                    : system.spawn(behavior, path, commits);
  };
  return supervise ? supervise("store", start) : std::make_shared<child_ref>("store", start());
}

class store_link {
 public:
  store_link() = default;
  store_link(std::shared_ptr<child_ref> store, std::string name, std::size_t max_backlog = 4096)
      : ref_(std::move(store)), name_(std::move(name)), max_backlog_(max_backlog) {}
  store_link(caf::actor store, std::string name, std::size_t max_backlog = 4096)
      : store_link(std::make_shared<child_ref>(name + " store", std::move(store)), name,
                   max_backlog) {}
  // Handlers capture `this`: the link stays where it was first used (the front's state).
  store_link(const store_link&) = delete;
  store_link& operator=(const store_link&) = delete;
  store_link(store_link&&) = default;
  store_link& operator=(store_link&&) = default;

  // Sends `msg` to the store from `self` (the front) and answers the front's current request
  // with the store's reply, `then(reply)` applied first when given. The front must pass its
  // down messages to store_down().
  template <class Reply, class Self, class Message>
  caf::result<Reply> ask(Self* self, Message&& msg) {
    return ask<Reply>(self, std::forward<Message>(msg), [](Reply&) {});
  }

  template <class Reply, class Self, class Message, class Then>
  caf::result<Reply> ask(Self* self, Message&& msg, Then then) {
    auto& store = current_.get(*ref_);
    // Null, or gone and not yet replaced (the supervisor hears of it after the front may).
    if (!store || store.address() == dead_ ||
        caf::actor_cast<caf::abstract_actor*>(store)->getf(caf::abstract_actor::is_terminated_flag))
      return make_error(errc::unavailable, "the " + name_ + " store is restarting", {},
                        std::chrono::seconds{1});
    if (store.address() != watched_) {
      // A new store: what the one before still held died with it.
      abandon_pending();
      watched_ = store.address();
      self->monitor(store);
    }
    if (pending_.size() >= max_backlog_)
      return make_error(errc::unavailable,
                        "the " + name_ + " store is behind: " + std::to_string(pending_.size()) +
                            " requests are waiting for it",
                        {}, std::chrono::seconds{1});
    auto rp = self->template make_response_promise<Reply>();
    auto serial = ++serial_;
    pending_.emplace(serial, [rp](caf::error err) mutable { rp.deliver(std::move(err)); });
    self->request(store, caf::infinite, std::forward<Message>(msg))
        .then(
            [this, serial, rp, then](Reply& reply) mutable {
              if (!settle(serial)) return;  // answered when its store went down
              then(reply);
              rp.deliver(std::move(reply));
            },
            [this, serial, rp](caf::error& err) mutable {
              if (settle(serial)) rp.deliver(std::move(err));
            });
    return rp;
  }

  // From the front's down handler: when it is the store going down, the requests it held are
  // answered now (outcome_unknown: a write may have committed just before), instead of
  // waiting for their deadlines, since CAF 0.17 drops the promises a crashed actor held.
  // Returns whether the message was about the store.
  bool store_down(const caf::down_msg& down) {
    if (!watched_ || down.source != watched_) return false;
    abandon_pending();
    dead_ = watched_;
    watched_ = nullptr;
    return true;
  }

  // The store now (null while it restarts).
  const caf::actor& store() { return current_.get(*ref_); }
  std::size_t backlog() const { return pending_.size(); }
  // Called (in the front) whenever the last request the store held has been answered: a
  // draining front waits for that, since its promises die with it.
  void when_idle(std::function<void()> idle) { idle_ = std::move(idle); }

 private:
  bool settle(std::uint64_t serial) {
    if (pending_.erase(serial) == 0) return false;
    if (pending_.empty() && idle_) idle_();  // runs before the answer is sent, in the same turn
    return true;
  }

  void abandon_pending() {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [serial, fail] : pending)
      fail(make_error(errc::outcome_unknown,
                      "the " + name_ +
                          " store stopped while it held this request: it may or may not have "
                          "been done"));
    if (!pending.empty() && idle_) idle_();
  }

  std::shared_ptr<child_ref> ref_ = std::make_shared<child_ref>("store");
  child_ref::cached current_;
  std::string name_;
  std::size_t max_backlog_ = 4096;
  caf::actor_addr watched_;
  caf::actor_addr dead_;  // the store that went down last, until the supervisor replaces it
  std::uint64_t serial_ = 0;
  std::unordered_map<std::uint64_t, std::function<void(caf::error)>> pending_;
  std::function<void()> idle_;
};

}  // namespace troupe
