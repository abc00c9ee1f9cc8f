#include "runtime/saga/ledger.hpp"

#include "runtime/core/time.hpp"

namespace troupe::saga {

namespace {

const std::vector<std::string> ledger_migrations = {
    "CREATE TABLE saga_ledger("
    "  key TEXT PRIMARY KEY,"
    "  tombstone INTEGER NOT NULL,"
    "  answer BLOB,"
    "  time_ms INTEGER NOT NULL)",
};

}  // namespace

caf::error require_key(const std::string& key) {
  if (!key.empty()) return {};
  return make_error(errc::invalid_argument,
                    "a saga step needs an idempotency key in its call context", "idempotency_key");
}

void migrate_ledger(sqlite::database& db) {
  db.migrate("ledger", ledger_migrations);
}

std::optional<ledger_entry> find_entry(sqlite::database& db, const std::string& key) {
  auto& q = db.prepare("SELECT tombstone, answer FROM saga_ledger WHERE key = ?1");
  q.bind(1, key);
  if (!q.step()) return std::nullopt;
  ledger_entry out{q.int64(0) != 0, q.blob(1)};
  q.reset();
  return out;
}

void record_entry(sqlite::database& db, const std::string& key, const ledger_entry& entry) {
  db.prepare(
        "INSERT INTO saga_ledger(key, tombstone, answer, time_ms) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT(key) DO UPDATE SET tombstone = excluded.tombstone, answer = "
        "excluded.answer, time_ms = excluded.time_ms")
      .bind(1, key)
      .bind(2, std::int64_t{entry.tombstone ? 1 : 0})
      .bind_blob(3, entry.answer)
      .bind(4, unix_now_ms())
      .run();
}

}  // namespace troupe::saga
