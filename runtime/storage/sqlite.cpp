#include "runtime/storage/sqlite.hpp"

#include <filesystem>

#include <sqlite3.h>

namespace troupe::sqlite {

namespace {

[[noreturn]] void raise(sqlite3* db, int code, const std::string& doing) {
  throw error(db ? sqlite3_extended_errcode(db) : code,
              doing + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(code)));
}

}  // namespace

bool error::constraint_violation() const {
  return (code_ & 0xff) == SQLITE_CONSTRAINT;
}

statement::~statement() {
  sqlite3_finalize(stmt_);
}

statement& statement::bind(int index, std::string_view text) {
  auto rc =
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) raise(db_, rc, "bind");
  return *this;
}

statement& statement::bind(int index, std::int64_t value) {
  auto rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) raise(db_, rc, "bind");
  return *this;
}

bool statement::step() {
  auto rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  raise(db_, rc, std::string("step '") + sqlite3_sql(stmt_) + "'");
}

void statement::run() {
  while (step()) {
  }
}

std::string statement::text(int column) const {
  auto p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
           : std::string{};
}

std::int64_t statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

bool statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

statement& statement::bind_blob(int index, const std::vector<char>& bytes) {
  auto rc = sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                              SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) raise(db_, rc, "bind");
  return *this;
}

std::vector<char> statement::blob(int column) const {
  auto p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
  return p ? std::vector<char>(p, p + n) : std::vector<char>{};
}

statement& statement::bind_null(int index) {
  auto rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) raise(db_, rc, "bind");
  return *this;
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

database::database(const std::string& path, durability mode, access how) : path_(path) {
  bool writable = how == access::read_write;
  if (writable) {
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
  }
  auto flags = (writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) |
               SQLITE_OPEN_NOMUTEX;
  auto rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw error(rc, "open " + path + ": " + msg);
  }
  // From here on a throw skips the destructor: close the connection ourselves.
  try {
    sqlite3_busy_timeout(db_, 5000);
    if (writable) {
      auto& wal = prepare("PRAGMA journal_mode=WAL");
      auto journal = wal.step() ? wal.text(0) : std::string("(no answer)");
      wal.reset();
      if (journal != "wal")
        throw error(SQLITE_ERROR, "open " + path +
                                      ": cannot switch to WAL mode (the journal "
                                      "mode is '" +
                                      journal + "'); troupe needs WAL");
      exec(mode == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
      exec("PRAGMA foreign_keys=ON");
      // Statement journals (an upsert or a savepoint inside a batch) and sorts go to memory:
      // on disk each one is a temporary file created, written and unlinked per statement.
      exec("PRAGMA temp_store=MEMORY");
    }
  } catch (...) {
    cache_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

database::~database() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close(db_);
}

void database::exec(const std::string& sql) {
  char* msg = nullptr;
  auto rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string text = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    throw error(sqlite3_extended_errcode(db_), "exec '" + sql + "': " + text);
  }
}

int database::changes() const {
  return sqlite3_changes(db_);
}

statement& database::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    auto rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) raise(db_, rc, "prepare '" + sql + "'");
    it = cache_.emplace(sql, std::make_unique<statement>(db_, stmt)).first;
  }
  it->second->reset();
  return *it->second;
}

int database::schema_version(const std::string& component) {
  exec(
      "CREATE TABLE IF NOT EXISTS schema_versions(component TEXT PRIMARY KEY, "
      "version INTEGER NOT NULL)");
  // Files written before components had names keep their version as the "main" component.
  auto& legacy =
      prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  bool has_legacy = legacy.step();
  legacy.reset();
  if (has_legacy) {
    transaction tx{*this};
    exec(
        "INSERT OR IGNORE INTO schema_versions(component, version) "
        "SELECT 'main', version FROM schema_version LIMIT 1");
    exec("DROP TABLE schema_version");
    tx.commit();
  }
  auto& q = prepare("SELECT version FROM schema_versions WHERE component = ?1");
  q.bind(1, component);
  int version = q.step() ? static_cast<int>(q.int64(0)) : 0;
  q.reset();
  return version;
}

void database::migrate(const std::string& component, const std::vector<std::string>& migrations) {
  auto version = schema_version(component);
  if (version > static_cast<int>(migrations.size()))
    throw error(0, path_ + ": schema version " + std::to_string(version) + " of '" + component +
                       "' is newer than this binary knows (" + std::to_string(migrations.size()) +
                       ")");
  for (auto i = static_cast<std::size_t>(version); i < migrations.size(); ++i) {
    transaction tx{*this};
    exec(migrations[i]);
    prepare(
        "INSERT INTO schema_versions(component, version) VALUES (?1, ?2) "
        "ON CONFLICT(component) DO UPDATE SET version = excluded.version")
        .bind(1, component)
        .bind(2, static_cast<std::int64_t>(i + 1))
        .run();
    tx.commit();
  }
}

std::int64_t database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

std::string database::check() {
  auto& q = prepare("PRAGMA quick_check");
  std::string result = q.step() ? q.text(0) : "no answer";
  q.reset();
  return result == "ok" ? std::string{} : result;
}

transaction::transaction(database& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

transaction::~transaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
      // nothing sensible to do in a destructor; the connection rolls back on close anyway
    }
  }
}

void transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

// Savepoints run once per request: prepared once, not parsed each time.
savepoint::savepoint(database& db) : db_(db) {
  db_.prepare("SAVEPOINT troupe_request").run();
}

savepoint::~savepoint() {
  if (!done_) {
    try {
      db_.prepare("ROLLBACK TO troupe_request").run();
      db_.prepare("RELEASE troupe_request").run();
    } catch (...) {
      // the enclosing transaction's rollback undoes it anyway
    }
  }
}

void savepoint::release() {
  db_.prepare("RELEASE troupe_request").run();
  done_ = true;
}

bool database::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

}  // namespace troupe::sqlite
