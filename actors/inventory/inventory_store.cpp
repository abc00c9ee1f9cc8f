#include "actors/inventory/inventory_store.hpp"

namespace troupe::inventory {

namespace {

// Migration i brings the schema to version i+1. Append; never edit a shipped one. The CHECKs
// are the last line against overselling: a bug that would drive stock below zero fails its
// request instead.
const std::vector<std::string> migrations = {
    "CREATE TABLE stock("
    "  sku TEXT PRIMARY KEY,"
    "  quantity INTEGER NOT NULL CHECK(quantity >= 0),"
    "  reserved INTEGER NOT NULL CHECK(reserved >= 0),"
    "  price INTEGER NOT NULL CHECK(price >= 0),"
    "  currency TEXT NOT NULL,"
    "  updated_at_ms INTEGER NOT NULL);"
    "CREATE TABLE reservations("
    "  id TEXT PRIMARY KEY,"
    "  step_key TEXT NOT NULL UNIQUE,"
    "  state TEXT NOT NULL,"
    "  total INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  updated_at_ms INTEGER NOT NULL);"
    "CREATE TABLE reservation_lines("
    "  reservation TEXT NOT NULL REFERENCES reservations(id),"
    "  position INTEGER NOT NULL,"
    "  sku TEXT NOT NULL,"
    "  quantity INTEGER NOT NULL,"
    "  price INTEGER NOT NULL,"
    "  PRIMARY KEY(reservation, position))",
};

std::optional<reservation> reservation_where(sqlite::database& db, const std::string& sql,
                                             const std::string& value) {
  auto& q = db.prepare("SELECT id, state, total, currency FROM reservations WHERE " + sql);
  q.bind(1, value);
  if (!q.step()) return std::nullopt;
  reservation r{q.text(0), q.text(1), {}, q.int64(2), q.text(3)};
  q.reset();
  auto& lines = db.prepare(
      "SELECT sku, quantity, price FROM reservation_lines WHERE reservation = ?1 "
      "ORDER BY position");
  lines.bind(1, r.id);
  while (lines.step()) r.lines.push_back({lines.text(0), lines.int64(1), lines.int64(2)});
  lines.reset();
  return r;
}

}  // namespace

void migrate_inventory(sqlite::database& db) {
  db.migrate(migrations);
}

std::optional<stock_item> find_stock(sqlite::database& db, const std::string& sku) {
  auto& q = db.prepare("SELECT sku, quantity, reserved, price, currency FROM stock WHERE sku = ?1");
  q.bind(1, sku);
  if (!q.step()) return std::nullopt;
  stock_item item{q.text(0), q.int64(1), q.int64(2), q.int64(3), q.text(4)};
  q.reset();
  return item;
}

void save_stock(sqlite::database& db, const stock_item& item, std::int64_t now_ms) {
  db.prepare(
        "INSERT INTO stock(sku, quantity, reserved, price, currency, updated_at_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(sku) DO UPDATE SET "
        "quantity = excluded.quantity, reserved = excluded.reserved, price = excluded.price, "
        "currency = excluded.currency, updated_at_ms = excluded.updated_at_ms")
      .bind(1, item.sku)
      .bind(2, item.quantity)
      .bind(3, item.reserved)
      .bind(4, item.price)
      .bind(5, item.currency)
      .bind(6, now_ms)
      .run();
}

void insert_reservation(sqlite::database& db, const reservation& r, const std::string& step_key,
                        std::int64_t now_ms) {
  db.prepare(
        "INSERT INTO reservations(id, step_key, state, total, currency, created_at_ms, "
        "updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)")
      .bind(1, r.id)
      .bind(2, step_key)
      .bind(3, r.state)
      .bind(4, r.total)
      .bind(5, r.currency)
      .bind(6, now_ms)
      .run();
  std::int64_t position = 0;
  for (auto& l : r.lines)
    db.prepare(
          "INSERT INTO reservation_lines(reservation, position, sku, quantity, price) "
          "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, r.id)
        .bind(2, position++)
        .bind(3, l.sku)
        .bind(4, l.quantity)
        .bind(5, l.price)
        .run();
}

std::optional<reservation> find_reservation(sqlite::database& db, const std::string& id) {
  return reservation_where(db, "id = ?1", id);
}

std::optional<reservation> find_reservation_by_key(sqlite::database& db,
                                                   const std::string& step_key) {
  return reservation_where(db, "step_key = ?1", step_key);
}

void set_reservation_state(sqlite::database& db, const std::string& id, const std::string& state,
                           std::int64_t now_ms) {
  db.prepare("UPDATE reservations SET state = ?2, updated_at_ms = ?3 WHERE id = ?1")
      .bind(1, id)
      .bind(2, state)
      .bind(3, now_ms)
      .run();
}

}  // namespace troupe::inventory
