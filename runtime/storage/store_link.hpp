// A capability front's link to its detached store: requests go through it with a bound on
// how many may wait, so a stalled store (a lock, a slow disk) cannot pile up requests
// without end behind callers that have stopped waiting. The store is a supervised child
// (supervision/child.hpp): while it restarts, requests are refused as unavailable, and the
// restarted store is used as soon as it is there.
//
// The front answers its callers itself (not `delegate`): a delegated reply would come from
// the detached store, which exposes it to remote callers, and CAF then keeps it alive while
// a peer holds the proxy, so the node's shutdown would wait for its thread forever.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/result.hpp>

#include "runtime/core/error.hpp"
#include "runtime/storage/sqlite.hpp"
#include "runtime/supervision/child.hpp"

namespace troupe {

// A capability's store as a child named "store": supervised (restarted alone under
// one-for-one) when `supervise` is set, else spawned once. `behavior(self, path)` runs on a
// thread of its own when `detached`. A database that cannot be opened fails the start itself
// (counted by the supervisor before the capability registers), not the store right after it.
template <class Behavior>
std::shared_ptr<child_ref> spawn_store(caf::actor_system& system,
                                       const supervise_function& supervise, Behavior behavior,
                                       const std::string& path, bool detached) {
  auto start = [&system, behavior, path, detached] {
    { sqlite::database probe{path}; }
    return detached ? system.spawn<caf::detached>(behavior, path) : system.spawn(behavior, path);
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

  // Sends `msg` to the store from `self` (the front) and answers the front's current request
  // with the store's reply, `then(reply)` applied first when given.
  template <class Reply, class Self, class Message>
  caf::result<Reply> ask(Self* self, Message&& msg) {
    return ask<Reply>(self, std::forward<Message>(msg), [](Reply&) {});
  }

  template <class Reply, class Self, class Message, class Then>
  caf::result<Reply> ask(Self* self, Message&& msg, Then then) {
    if (backlog_ >= max_backlog_)
      return make_error(errc::unavailable,
                        "the " + name_ + " store is behind: " + std::to_string(backlog_) +
                            " requests are waiting for it",
                        {}, std::chrono::seconds{1});
    auto& store = current_.get(*ref_);
    if (!store)
      return make_error(errc::unavailable, "the " + name_ + " store is restarting", {},
                        std::chrono::seconds{1});
    // Requests a crashed store held are never answered (CAF 0.17 has no broken promises):
    // the backlog counts those of the current store only.
    auto epoch = ref_->epoch();
    if (epoch != backlog_epoch_) {
      backlog_ = 0;
      backlog_epoch_ = epoch;
    }
    ++backlog_;
    auto rp = self->template make_response_promise<Reply>();
    auto done = [this, epoch] {
      if (epoch == backlog_epoch_ && backlog_ > 0) --backlog_;
    };
    self->request(store, caf::infinite, std::forward<Message>(msg))
        .then(
            [done, rp, then](Reply& reply) mutable {
              done();
              then(reply);
              rp.deliver(std::move(reply));
            },
            [done, rp](caf::error& err) mutable {
              done();
              rp.deliver(std::move(err));
            });
    return rp;
  }

  // The store now (null while it restarts).
  const caf::actor& store() { return current_.get(*ref_); }
  std::size_t backlog() const { return backlog_; }

 private:
  std::shared_ptr<child_ref> ref_ = std::make_shared<child_ref>("store");
  child_ref::cached current_;
  std::string name_;
  std::size_t max_backlog_ = 4096;
  std::size_t backlog_ = 0;
  std::uint64_t backlog_epoch_ = 0;
};

}  // namespace troupe
