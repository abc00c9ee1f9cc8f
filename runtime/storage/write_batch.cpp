#include "runtime/storage/write_batch.hpp"

#include <caf/abstract_actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "runtime/core/error.hpp"
#include "runtime/observability/log.hpp"

namespace troupe::sqlite {

write_batch::write_batch(caf::local_actor* self, database& db, batch_limits limits)
    : self_(self), db_(db), limits_(limits) {}

write_batch::~write_batch() {
  if (open_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // closing the connection rolls back as well
    }
  }
}

void write_batch::open() {
  db_.prepare("BEGIN IMMEDIATE").run();
  open_ = true;
  opened_at_ = std::chrono::steady_clock::now();
  ++generation_;
  // Queued behind every request already in the mailbox: they join this batch first. Under
  // load, the flush also waits a little for requests still on their way.
  auto self = caf::actor_cast<caf::actor>(self_);
  // Only a store on a thread of its own lingers: on a shared scheduler (and on a test
  // coordinator, whose clock is the test's) the batch commits when the mailbox drains.
  // Company is likely only when the last batch had some (like commit_siblings): a lone
  // client's sequential requests commit at once.
  if (limits_.linger.count() > 0 && self_->getf(caf::abstract_actor::is_detached_flag) &&
      opened_at_ - last_commit_ < limits_.busy_within && last_batch_size_ > 1)
    caf::delayed_anon_send(self, limits_.linger, flush_atom::value, generation_);
  else
    caf::anon_send(self, flush_atom::value, generation_);
}

void write_batch::trace_as(std::string database) {
  database_ = std::move(database);
}

tracing::active_span write_batch::span_for(const trace_parent& parent,
                                           const std::string& operation) const {
  if (!parent.sampled || !tracing::enabled()) return {};
  auto service = database_.substr(0, database_.rfind(".db"));
  auto span = tracing::active_span::start(
      "sqlite " + (database_.empty() ? "transaction" : database_), tracing::span_kind::internal,
      parent, service.empty() ? "sqlite" : service);
  span.set("db.system", std::string("sqlite"));
  if (!database_.empty()) span.set("db.name", database_);
  if (!operation.empty()) span.set("db.operation", operation);
  return span;
}

void write_batch::run(const std::function<void()>& work, done_handler done,
                      tracing::active_span span) {
  if (span.active())
    done = [this, span = std::move(span), inner = std::move(done)](const caf::error& err) mutable {
      // The commit it waited for: how many requests shared it.
      span.set("troupe.batch_size", static_cast<std::int64_t>(last_batch_size_));
      if (err) span.fail(describe(err).message);
      span.end();
      inner(err);
    };
  ++requests_;
  try {
    if (!open_) open();
  } catch (const std::exception& e) {
    return done(make_error(errc::internal, std::string("store: ") + e.what()));
  }
  try {
    savepoint sp{db_};
    work();
    sp.release();
  } catch (const std::exception& e) {
    done(make_error(errc::internal, std::string("store: ") + e.what()));
    done = nullptr;
  }
  if (done) waiting_.push_back(std::move(done));
  if (waiting_.size() >= limits_.max_requests ||
      std::chrono::steady_clock::now() - opened_at_ >= limits_.max_wait)
    commit();
}

void write_batch::flush(std::uint64_t generation) {
  if (open_ && generation == generation_) commit();
}

void write_batch::commit() {
  if (!open_) return;
  open_ = false;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  last_batch_size_ = waiting.size();
  caf::error failed;
  try {
    auto started = std::chrono::steady_clock::now();
    db_.prepare("COMMIT").run();
    ++commits_;
    stats_.committed(
        waiting.size(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  } catch (const std::exception& e) {
    log_error("store", std::string("commit failed, ") + std::to_string(waiting.size()) +
                           " requests undone: " + e.what());
    failed = make_error(errc::internal, std::string("store: commit failed: ") + e.what());
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // already rolled back by SQLite
    }
  }
  last_commit_ = std::chrono::steady_clock::now();
  for (auto& done : waiting) done(failed);
  if (!failed && after_commit_) after_commit_();
}

}  // namespace troupe::sqlite
