// What every capability store that publishes events is built on: its SQLite file, group
// commit, and its outbox served to subscribers. Lives in the store actor's state (a detached,
// dynamically typed actor, the file's only writer):
//
//   struct state { std::unique_ptr<events::store_core> core; ... };
//   self->state.core = std::make_unique<events::store_core>(self, path);
//   return caf::message_handler{ ...its own handlers... }.or_else(self->state.core->handlers());
#pragma once

#include <memory>
#include <string>

#include <caf/message_handler.hpp>

#include "runtime/core/error.hpp"
#include "runtime/core/failpoint.hpp"
#include "runtime/events/feed.hpp"
#include "runtime/storage/sqlite.hpp"
#include "runtime/storage/write_batch.hpp"

namespace troupe::events {

// The answer of a failpoint set to `error`.
caf::error failed_at(const std::string& point, bool done);

class store_core {
 public:
  // Opens (creating) the file with synchronous=FULL and migrates the outbox.
  // `commits` counts its group commits (metrics::for_database).
  store_core(caf::local_actor* self, const std::string& path,
             sqlite::batch_limits limits = sqlite::batch_limits{}, commit_metrics commits = {});
  store_core(const store_core&) = delete;
  store_core& operator=(const store_core&) = delete;

  // The flush and feed-wait messages of the store itself, and pull_events from subscribers.
  caf::message_handler handlers();

  // Runs `work() -> caf::expected<T>` in the batch and answers `rp` once it is durable.
  // Failpoints (core/failpoint.hpp) let tests make a participant fail, hang or die at a step:
  // `point` is passed before the work, `point + ".after"` after the commit (the effect stays,
  // the answer is lost). They run on the store's own thread, so a hang stalls this capability
  // only; `error` answers `unavailable` before the work (nothing done) and `outcome_unknown`
  // after it (done, answer lost); a saga retries both. Empty: none.
  // With `parent` (the request's call context: parent_of(ctx)), the transaction is a span
  // of its trace (write_batch::span_for), its operation named by `point` or `operation`.
  template <class T, class Work>
  void answer(caf::typed_response_promise<T> rp, const trace_parent& parent,
              const std::string& point, Work work, const std::string& operation = {}) {
    if (!point.empty() && failpoint(point)) {
      rp.deliver(failed_at(point, false));
      return;
    }
    auto span = batch.span_for(parent, point.empty() ? operation : point);
    if (point.empty()) return batch.answer(rp, std::move(work), nullptr, std::move(span));
    batch.answer(
        rp, std::move(work),
        [after = point + ".after"]() -> caf::error {
          return failpoint(after) ? failed_at(after, true) : caf::error{};
        },
        std::move(span));
  }
  // The same outside any trace.
  template <class T, class Work>
  void answer(caf::typed_response_promise<T> rp, const std::string& point, Work work) {
    answer(rp, untraced, point, std::move(work));
  }

  static inline const trace_parent untraced{{}, {}, {}, false};

  sqlite::database db;
  sqlite::write_batch batch;
  outbox_feed feed;
};

}  // namespace troupe::events
