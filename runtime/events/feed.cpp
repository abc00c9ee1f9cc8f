#include "runtime/events/feed.hpp"

#include <algorithm>
#include <chrono>

#include <caf/actor_cast.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "runtime/core/error.hpp"
#include "runtime/events/outbox.hpp"

namespace troupe::events {

outbox_feed::outbox_feed(caf::local_actor* self, sqlite::database& db, sqlite::write_batch& batch,
                         std::size_t max_waiting)
    : self_(self), db_(db), batch_(batch), max_waiting_(max_waiting) {}

events_page outbox_feed::page_after(std::int64_t after, std::int32_t max) {
  events_page page;
  auto n = static_cast<std::size_t>(std::clamp(max, 1, max_page_events));
  page.events = read_after(db_, after, n);
  page.last_offset = last_offset(db_);
  known_last_ = page.last_offset;
  return page;
}

void outbox_feed::pull(const pull_events& msg, caf::typed_response_promise<events_page> rp) {
  auto now = std::chrono::steady_clock::now();
  if (past_deadline(msg.ctx, now)) {
    rp.deliver(make_error(errc::deadline_exceeded, "the pull arrived after its deadline"));
    return;
  }
  // Read inside the batch: what an open batch wrote is answered only once it is durable.
  auto after = msg.after;
  auto max = msg.max;
  auto page = std::make_shared<events_page>();
  batch_.run([&] { *page = page_after(after, max); },
             [this, rp, page, msg](const caf::error& err) mutable {
               if (err) {
                 rp.deliver(err);
                 return;
               }
               if (!page->events.empty() || msg.wait_ms <= 0) {
                 rp.deliver(std::move(*page));
                 return;
               }
               if (waiting_.size() >= max_waiting_) {
                 rp.deliver(make_error(errc::unavailable,
                                       "too many subscribers are waiting on this outbox", {},
                                       std::chrono::seconds{1}));
                 return;
               }
               // Answer before the puller's deadline, with room for the answer to travel.
               auto wait = std::chrono::milliseconds{std::min(msg.wait_ms, max_pull_wait_ms)};
               if (msg.ctx.deadline != call_context::clock::time_point::max()) {
                 auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                     msg.ctx.deadline - std::chrono::steady_clock::now());
                 wait = std::min(wait, std::max(std::chrono::milliseconds{0}, left * 3 / 4));
               }
               auto id = ++next_id_;
               waiting_.emplace(id, waiter{msg.after, msg.max, rp});
               caf::delayed_anon_send(caf::actor_cast<caf::actor>(self_), wait,
                                      feed_wait_atom::value, id);
             });
}

void outbox_feed::committed() {
  if (waiting_.empty()) return;
  auto newest = last_offset(db_);
  if (newest == known_last_) return;
  known_last_ = newest;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.after < newest) {
      it->second.rp.deliver(page_after(it->second.after, it->second.max));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
}

void outbox_feed::expire(std::uint64_t id) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  events_page empty;
  empty.last_offset = known_last_ < 0 ? 0 : known_last_;
  it->second.rp.deliver(std::move(empty));
  waiting_.erase(it);
}

}  // namespace troupe::events
