// Group commit for a store actor: the writes of concurrent requests to one database share a
// transaction, so durability (synchronous=FULL, one fsync per commit) does not cap a file at
// one request per fsync.
//
// Each request runs at once inside the open batch, under its own savepoint: a request that
// throws undoes only its own statements and is answered at once; the others are answered
// after the commit that makes them durable (or all get the commit's error, and nothing of the
// batch is written). A batch commits when it holds `max_requests`, when it is older than
// `max_wait` at the next request, or when the store's mailbox has drained up to the flush
// message the batch sent itself on opening: under light load a request commits alone, with
// no added wait; under load requests that queued together commit together.
//
// Reads inside the store see the batch's uncommitted writes, so answers derived from them
// must also wait for the commit: send every request that reads written state through run().
//
// Use from a dynamically typed store actor (it sends itself (flush_atom, uint64_t)):
//   state: sqlite::database db; sqlite::write_batch batch{self, db};
//   behavior: [self](sqlite::flush_atom, std::uint64_t g) { self->state.batch.flush(g); }
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_response_promise.hpp>

#include "runtime/observability/metrics.hpp"
#include "runtime/observability/tracing.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::sqlite {

using flush_atom = caf::atom_constant<caf::atom("wbflush")>;

struct batch_limits {
  std::size_t max_requests = 64;
  std::chrono::microseconds max_wait{5000};
  // Under load (the previous commit ended less than `busy_within` ago and served more than
  // one request) a new batch of a detached store waits up to `linger` for company before it
  // commits, like PostgreSQL's commit_delay and commit_siblings: one fsync then serves the
  // requests of that window. Idle, or for one client's sequential requests, a request commits
  // at once.
  std::chrono::microseconds linger{400};
  std::chrono::microseconds busy_within{2000};
};

class write_batch {
 public:
  using done_handler = std::function<void(const caf::error&)>;

  write_batch(caf::local_actor* self, database& db, batch_limits limits = {});
  ~write_batch();  // rolls back a batch still open; its waiters get broken promises
  write_batch(const write_batch&) = delete;
  write_batch& operator=(const write_batch&) = delete;

  // Runs `work` now, in the open batch; `done` runs once: with no error after the commit,
  // or with the error that undid this request (work threw) or the whole batch.
  // With an active `span` (span_for), it ends when `done` runs, with the batch's size and
  // the error if any.
  void run(const std::function<void()>& work, done_handler done, tracing::active_span span = {});

  // Names the spans of its transactions by the file ("orders.db"); the capability is the
  // name without ".db".
  void trace_as(std::string database);
  // The span of one request's part in a transaction, under `parent`: inactive when tracing
  // is off or the trace is not recorded. `operation` names what it does, may be empty.
  tracing::active_span span_for(const trace_parent& parent, const std::string& operation) const;

  // `work() -> caf::expected<T>`; the promise gets its value or error after the commit. An
  // error returned (not thrown) is an answer: the request's writes are kept (a participant
  // records its rejections too). Throwing undoes the request's writes. `intercept`, when
  // given, runs after the commit and may replace the answer with an error (tests use it to
  // lose an answer whose effect is durable).
  template <class T, class Work>
  void answer(caf::typed_response_promise<T> rp, Work work,
              std::function<caf::error()> intercept = nullptr, tracing::active_span span = {}) {
    auto out = std::make_shared<caf::expected<T>>(caf::error{});
    run([&] { *out = work(); },
        [rp, out, intercept = std::move(intercept)](const caf::error& err) mutable {
          if (err) return rp.deliver(err), void();
          if (intercept)
            if (auto lost = intercept()) return rp.deliver(lost), void();
          if (*out)
            rp.deliver(std::move(**out));
          else
            rp.deliver(out->error());
        },
        std::move(span));
  }

  // The flush message: commits the batch it was sent for, if still open.
  void flush(std::uint64_t generation);
  // Commits the open batch now, if any.
  void commit();
  // Runs after every commit that succeeded (e.g. to wake readers waiting for new rows).
  void on_commit(std::function<void()> f) { after_commit_ = std::move(f); }

  caf::local_actor* owner() const { return self_; }
  std::uint64_t commits() const { return commits_; }
  // Counts every commit's duration and size from now on.
  void observe(commit_metrics stats) { stats_ = stats; }
  std::uint64_t requests() const { return requests_; }

 private:
  void open();

  caf::local_actor* self_;
  database& db_;
  batch_limits limits_;
  bool open_ = false;
  std::uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point opened_at_;
  std::vector<done_handler> waiting_;
  std::chrono::steady_clock::time_point last_commit_;
  std::size_t last_batch_size_ = 0;
  std::function<void()> after_commit_;
  std::uint64_t commits_ = 0;
  commit_metrics stats_;
  std::uint64_t requests_ = 0;
  std::string database_;  // for spans; empty: "sqlite"
};

}  // namespace troupe::sqlite
