#include <catch2/catch.hpp>

#include "runtime/sqlite.hpp"
#include "tests/support/process.hpp"

using namespace troupe;

TEST_CASE("migrations run once, in order, and the version is stored") {
  test::temp_dir dir;
  auto path = dir.file("sub/x.db");  // parent folders are created
  std::vector<std::string> v1 = {"CREATE TABLE t(a INTEGER)"};
  std::vector<std::string> v2 = {"CREATE TABLE t(a INTEGER)", "ALTER TABLE t ADD COLUMN b TEXT"};
  {
    sqlite::database db{path};
    db.migrate(v1);
    CHECK(db.schema_version() == 1);
    db.prepare("INSERT INTO t(a) VALUES (?1)").bind(1, std::int64_t{7}).run();
  }
  {
    sqlite::database db{path};
    db.migrate(v2);  // only the second step runs; re-running the first would fail
    CHECK(db.schema_version() == 2);
    auto& q = db.prepare("SELECT a, b FROM t");
    REQUIRE(q.step());
    CHECK(q.int64(0) == 7);
    CHECK(q.text(1).empty());
    db.migrate(v2);
    CHECK(db.schema_version() == 2);
  }
  sqlite::database db{path};
  CHECK_THROWS_AS(db.migrate(v1), sqlite::error);  // the file is newer than this code
}

TEST_CASE("the database runs in WAL mode and reports constraint violations") {
  test::temp_dir dir;
  sqlite::database db{dir.file("w.db")};
  auto& mode = db.prepare("PRAGMA journal_mode");
  REQUIRE(mode.step());
  CHECK(mode.text(0) == "wal");
  db.exec("CREATE TABLE k(id TEXT PRIMARY KEY)");
  db.prepare("INSERT INTO k VALUES (?1)").bind(1, "x").run();
  try {
    db.prepare("INSERT INTO k VALUES (?1)").bind(1, "x").run();
    FAIL("duplicate key accepted");
  } catch (const sqlite::error& e) {
    CHECK(e.constraint_violation());
  }
  CHECK(db.check().empty());
}

TEST_CASE("a transaction not committed leaves nothing behind") {
  test::temp_dir dir;
  sqlite::database db{dir.file("t.db")};
  db.exec("CREATE TABLE k(id TEXT)");
  {
    sqlite::transaction tx{db};
    db.prepare("INSERT INTO k VALUES (?1)").bind(1, "gone").run();
  }
  auto& count = db.prepare("SELECT count(*) FROM k");
  REQUIRE(count.step());
  CHECK(count.int64(0) == 0);
}
