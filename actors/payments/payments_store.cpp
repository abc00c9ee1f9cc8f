#include "actors/payments/payments_store.hpp"

namespace troupe::payments {

namespace {

const std::vector<std::string> migrations = {
    "CREATE TABLE charges("
    "  id TEXT PRIMARY KEY,"
    "  step_key TEXT NOT NULL UNIQUE,"
    "  customer TEXT NOT NULL,"
    "  amount INTEGER NOT NULL CHECK(amount > 0),"
    "  currency TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  updated_at_ms INTEGER NOT NULL)",
};

std::optional<charge> charge_where(sqlite::database& db, const std::string& where,
                                   const std::string& value) {
  auto& q = db.prepare(
      "SELECT id, customer, amount, currency, status, created_at_ms FROM charges WHERE " + where);
  q.bind(1, value);
  if (!q.step()) return std::nullopt;
  charge c{q.text(0), q.text(1), q.int64(2), q.text(3), q.text(4), q.int64(5)};
  q.reset();
  return c;
}

}  // namespace

void migrate_payments(sqlite::database& db) {
  db.migrate(migrations);
}

void insert_charge(sqlite::database& db, const charge& c, const std::string& step_key) {
  db.prepare(
        "INSERT INTO charges(id, step_key, customer, amount, currency, status, created_at_ms, "
        "updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)")
      .bind(1, c.id)
      .bind(2, step_key)
      .bind(3, c.customer)
      .bind(4, c.amount)
      .bind(5, c.currency)
      .bind(6, c.status)
      .bind(7, c.created_at_ms)
      .run();
}

std::optional<charge> find_charge(sqlite::database& db, const std::string& id) {
  return charge_where(db, "id = ?1", id);
}

std::optional<charge> find_charge_by_key(sqlite::database& db, const std::string& step_key) {
  return charge_where(db, "step_key = ?1", step_key);
}

void set_charge_status(sqlite::database& db, const std::string& id, const std::string& status,
                       std::int64_t now_ms) {
  db.prepare("UPDATE charges SET status = ?2, updated_at_ms = ?3 WHERE id = ?1")
      .bind(1, id)
      .bind(2, status)
      .bind(3, now_ms)
      .run();
}

}  // namespace troupe::payments
