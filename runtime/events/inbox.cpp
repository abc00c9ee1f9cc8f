#include "runtime/events/inbox.hpp"

namespace troupe::events {

namespace {

const std::vector<std::string> inbox_migrations = {
    "CREATE TABLE inbox_offsets(subscription TEXT PRIMARY KEY, position INTEGER NOT NULL);"
    "CREATE TABLE inbox_applied(subscription TEXT NOT NULL, event_id TEXT NOT NULL,"
    "  position INTEGER NOT NULL, PRIMARY KEY(subscription, event_id));"
    "CREATE INDEX inbox_applied_by_position ON inbox_applied(subscription, position)",
};

}  // namespace

void migrate_inbox(sqlite::database& db) {
  db.migrate("inbox", inbox_migrations);
}

std::int64_t inbox_offset(sqlite::database& db, const std::string& subscription) {
  auto& q = db.prepare("SELECT position FROM inbox_offsets WHERE subscription = ?1");
  q.bind(1, subscription);
  auto out = q.step() ? q.int64(0) : 0;
  q.reset();
  return out;
}

namespace {

std::size_t apply_range(sqlite::database& db, const std::string& subscription,
                        const event_envelope* first, const event_envelope* last,
                        const std::function<void(const event_envelope&)>& effect) {
  auto stored = inbox_offset(db, subscription);
  auto offset = stored;
  std::size_t applied = 0;
  for (auto e = first; e != last; ++e) {
    if (e->offset <= offset) continue;
    auto& seen =
        db.prepare("SELECT 1 FROM inbox_applied WHERE subscription = ?1 AND event_id = ?2");
    seen.bind(1, subscription).bind(2, e->id);
    bool known = seen.step();
    seen.reset();
    if (!known) {
      effect(*e);
      db.prepare("INSERT INTO inbox_applied(subscription, event_id, position) VALUES (?1, ?2, ?3)")
          .bind(1, subscription)
          .bind(2, e->id)
          .bind(3, e->offset)
          .run();
      ++applied;
    }
    offset = e->offset;
  }
  if (offset == stored) return applied;
  db.prepare(
        "INSERT INTO inbox_offsets(subscription, position) VALUES (?1, ?2) "
        "ON CONFLICT(subscription) DO UPDATE SET position = excluded.position")
      .bind(1, subscription)
      .bind(2, offset)
      .run();
  // Every 1000 offsets, forget ids the offset covers anyway.
  if (offset / 1000 != stored / 1000)
    db.prepare("DELETE FROM inbox_applied WHERE subscription = ?1 AND position < ?2")
        .bind(1, subscription)
        .bind(2, offset - remembered_ids)
        .run();
  return applied;
}

}  // namespace

bool apply_once(sqlite::database& db, const std::string& subscription, const event_envelope& e,
                const std::function<void(const event_envelope&)>& effect) {
  return apply_range(db, subscription, &e, &e + 1, effect) == 1;
}

std::size_t apply_page_once(sqlite::database& db, const std::string& subscription,
                            const std::vector<event_envelope>& page,
                            const std::function<void(const event_envelope&)>& effect) {
  return apply_range(db, subscription, page.data(), page.data() + page.size(), effect);
}

void reset_inbox(sqlite::database& db, const std::string& subscription) {
  db.prepare("DELETE FROM inbox_offsets WHERE subscription = ?1").bind(1, subscription).run();
  db.prepare("DELETE FROM inbox_applied WHERE subscription = ?1").bind(1, subscription).run();
}

}  // namespace troupe::events
