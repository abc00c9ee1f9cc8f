// One SQLite file per capability: WAL mode, schema migrations with a version table,
// statements prepared once. Blocking: use it only from detached actors.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace troupe::sqlite {

class error : public std::runtime_error {
 public:
  error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }  // extended result code
  bool constraint_violation() const;  // UNIQUE, PRIMARY KEY, CHECK...

 private:
  int code_;
};

// A prepared statement, reset and cleared of bindings each time it is fetched.
class statement {
 public:
  statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int index, std::string_view text);  // 1-based, like SQLite
  statement& bind(int index, std::int64_t value);
  bool step();                         // true while a row is available
  void run();                          // steps to completion (for writes)
  std::string text(int column) const;  // 0-based
  std::int64_t int64(int column) const;
  bool is_null(int column) const;
  statement& bind_blob(int index, const std::vector<char>& bytes);
  std::vector<char> blob(int column) const;
  statement& bind_null(int index);
  void reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

enum class durability { normal, full };
enum class access { read_write, read_only };

class database {
 public:
  // read_write: opens (creating parent folders and the file), switches to WAL (and checks
  // that it did), sets durability, busy timeout and foreign keys. read_only: opens an
  // existing file for reading only, e.g. a second connection that checks the file while the
  // owner writes (WAL lets readers and the writer proceed together). Throws sqlite::error.
  explicit database(const std::string& path, durability mode = durability::full,
                    access how = access::read_write);
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  // Applies the migrations whose index is >= the stored schema version of `component`, each
  // in its own transaction together with the version bump. Migration i brings the schema to
  // i+1. Components version separately, so a capability's tables and the runtime's (outbox,
  // saga log, idempotency ledger) share a file without sharing a list.
  void migrate(const std::string& component, const std::vector<std::string>& migrations);
  void migrate(const std::vector<std::string>& migrations) { migrate("main", migrations); }
  int schema_version(const std::string& component = "main");

  // A cached prepared statement, reset and ready to bind.
  statement& prepare(const std::string& sql);
  void exec(const std::string& sql);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int changes() const;
  std::int64_t last_insert_rowid() const;
  bool in_transaction() const;

  // Runs PRAGMA quick_check (reads the whole file: keep it off the owner's thread); an empty
  // string means fine.
  std::string check();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  std::map<std::string, std::unique_ptr<statement>> cache_;
};

// RAII transaction: commits in commit(), rolls back if destroyed before.
class transaction {
 public:
  explicit transaction(database& db);
  ~transaction();
  void commit();

 private:
  database& db_;
  bool done_ = false;
};

// RAII savepoint inside an open transaction: release() keeps its statements, destruction
// before that undoes only them. Not nestable with itself (one name).
class savepoint {
 public:
  explicit savepoint(database& db);
  ~savepoint();
  void release();

 private:
  database& db_;
  bool done_ = false;
};

}  // namespace troupe::sqlite
