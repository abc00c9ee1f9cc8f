#include "runtime/events/store.hpp"

#include <caf/all.hpp>

#include "runtime/events/outbox.hpp"

namespace troupe::events {

namespace {

sqlite::database& migrated(sqlite::database& db) {
  migrate_outbox(db);
  return db;
}

}  // namespace

caf::error failed_at(const std::string& point, bool done) {
  // Before the work nothing happened (unavailable); after the commit the effect stays and
  // only the answer is lost, which a caller cannot tell from a lost reply (outcome_unknown).
  if (done) return make_error(errc::outcome_unknown, "failpoint " + point);
  return make_error(errc::unavailable, "failpoint " + point, {}, std::chrono::seconds{1});
}

store_core::store_core(caf::local_actor* self, const std::string& path, sqlite::batch_limits limits,
                       commit_metrics commits)
    : db(path, sqlite::durability::full), batch(self, migrated(db), limits), feed(self, db, batch) {
  batch.on_commit([this] { feed.committed(); });
  batch.observe(commits);
  batch.trace_as(path.substr(path.find_last_of('/') + 1));
}

caf::message_handler store_core::handlers() {
  auto self = batch.owner();
  return {
      [this](sqlite::flush_atom, std::uint64_t generation) { batch.flush(generation); },
      [this](feed_wait_atom, std::uint64_t id) { feed.expire(id); },
      [this, self](pull_events& msg) -> caf::result<events_page> {
        auto rp = self->make_response_promise<events_page>();
        feed.pull(msg, rp);
        return rp;
      },
  };
}

}  // namespace troupe::events
