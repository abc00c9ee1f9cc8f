#include "runtime/events/outbox.hpp"

#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"

namespace troupe::events {

namespace {

const std::vector<std::string> outbox_migrations = {
    // AUTOINCREMENT: an offset is never reused, even after the newest row is deleted.
    "CREATE TABLE outbox("
    "  position INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  type TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  aggregate_id TEXT NOT NULL,"
    "  aggregate_seq INTEGER NOT NULL,"
    "  time_ms INTEGER NOT NULL,"
    "  trace_id TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  UNIQUE(aggregate_id, aggregate_seq))",
};

constexpr const char* columns =
    "position, id, type, source, aggregate_id, aggregate_seq, time_ms, trace_id, payload";

event_envelope row_of(sqlite::statement& q) {
  return {q.int64(0), q.text(1),  q.text(2), q.text(3), q.text(4),
          q.int64(5), q.int64(6), q.text(7), q.text(8)};
}

}  // namespace

void migrate_outbox(sqlite::database& db) {
  db.migrate("outbox", outbox_migrations);
}

void append(sqlite::database& db, event_envelope& e) {
  if (e.id.empty()) e.id = time_ordered_hex();
  if (e.time_ms == 0) e.time_ms = unix_now_ms();
  if (e.aggregate_seq == 0) {
    auto& q = db.prepare(
        "SELECT COALESCE(MAX(aggregate_seq), 0) + 1 FROM outbox WHERE aggregate_id = ?1");
    q.bind(1, e.aggregate_id);
    q.step();
    e.aggregate_seq = q.int64(0);
    q.reset();
  }
  db.prepare(
        "INSERT INTO outbox(id, type, source, aggregate_id, aggregate_seq, time_ms, trace_id, "
        "payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
      .bind(1, e.id)
      .bind(2, e.type)
      .bind(3, e.source)
      .bind(4, e.aggregate_id)
      .bind(5, e.aggregate_seq)
      .bind(6, e.time_ms)
      .bind(7, e.trace_id)
      .bind(8, e.payload)
      .run();
  e.offset = db.last_insert_rowid();
}

std::vector<event_envelope> read_after(sqlite::database& db, std::int64_t after, std::size_t max) {
  std::vector<event_envelope> out;
  auto& q = db.prepare(std::string("SELECT ") + columns +
                       " FROM outbox WHERE position > ?1 ORDER BY position LIMIT ?2");
  q.bind(1, after).bind(2, static_cast<std::int64_t>(max));
  while (q.step()) out.push_back(row_of(q));
  q.reset();
  return out;
}

std::vector<event_envelope> read_aggregate(sqlite::database& db, const std::string& aggregate_id) {
  std::vector<event_envelope> out;
  auto& q = db.prepare(std::string("SELECT ") + columns +
                       " FROM outbox WHERE aggregate_id = ?1 ORDER BY aggregate_seq");
  q.bind(1, aggregate_id);
  while (q.step()) out.push_back(row_of(q));
  q.reset();
  return out;
}

std::int64_t last_offset(sqlite::database& db) {
  auto& q = db.prepare("SELECT COALESCE(MAX(position), 0) FROM outbox");
  q.step();
  auto out = q.int64(0);
  q.reset();
  return out;
}

}  // namespace troupe::events
