#include "actors/users/users_store.hpp"

namespace troupe::users {

namespace {

// Migration i brings the schema to version i+1. Append; never edit a shipped one.
const std::vector<std::string> migrations = {
    "CREATE TABLE users("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  email TEXT NOT NULL,"
    "  created_at_ms INTEGER NOT NULL)",
};

}  // namespace

void migrate_users(sqlite::database& db) {
  db.migrate(migrations);
}

bool insert_user(sqlite::database& db, const user& u) {
  auto& stmt = db.prepare(
      "INSERT INTO users(id, name, email, created_at_ms) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(id) DO NOTHING");
  stmt.bind(1, u.id).bind(2, u.name).bind(3, u.email).bind(4, u.created_at_ms).run();
  return db.changes() == 1;
}

std::optional<user> find_user(sqlite::database& db, const std::string& id) {
  auto& stmt = db.prepare("SELECT id, name, email, created_at_ms FROM users WHERE id = ?1");
  stmt.bind(1, id);
  if (!stmt.step()) return std::nullopt;
  user u{stmt.text(0), stmt.text(1), stmt.text(2), stmt.int64(3)};
  stmt.reset();
  return u;
}

}  // namespace troupe::users
