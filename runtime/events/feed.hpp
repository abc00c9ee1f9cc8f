// The producer side of pull_events, inside a capability's store actor: answers pulls from
// its outbox, and holds pulls that found nothing new until the next commit that adds events
// (or their wait ends). Waiting pulls are bounded; beyond the bound a pull is refused with
// `unavailable` and a retry hint, never queued.
//
// Use from a dynamically typed store actor that owns `batch`:
//   feed.pull(msg, self->make_response_promise<events_page>());
//   [self](events::feed_wait_atom, std::uint64_t id) { self->state.feed.expire(id); }
// and call feed.committed() from batch.on_commit.
#pragma once

#include <cstdint>
#include <map>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_response_promise.hpp>

#include "runtime/events/event.hpp"
#include "runtime/storage/write_batch.hpp"

namespace troupe::events {

using feed_wait_atom = caf::atom_constant<caf::atom("feedwait")>;

class outbox_feed {
 public:
  outbox_feed(caf::local_actor* self, sqlite::database& db, sqlite::write_batch& batch,
              std::size_t max_waiting = 64);
  void pull(const pull_events& msg, caf::typed_response_promise<events_page> rp);
  void committed();
  void expire(std::uint64_t id);
  std::size_t waiting() const { return waiting_.size(); }

 private:
  struct waiter {
    std::int64_t after;
    std::int32_t max;
    caf::typed_response_promise<events_page> rp;
  };
  events_page page_after(std::int64_t after, std::int32_t max);

  caf::local_actor* self_;
  sqlite::database& db_;
  sqlite::write_batch& batch_;
  std::size_t max_waiting_;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, waiter> waiting_;
  std::int64_t known_last_ = -1;  // newest offset as of the last read; -1: not read yet
};

}  // namespace troupe::events
