#include <catch2/catch.hpp>

#include <filesystem>

#include "runtime/storage/sqlite.hpp"
#include "tests/support/process.hpp"

using namespace troupe;

namespace {

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

}  // namespace

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

TEST_CASE("a file that is not a database is refused without leaking its connection") {
  test::temp_dir dir;
  dir.write("junk.db", std::string(8192, 'x'));
  auto before = open_descriptors();
  for (int i = 0; i < 50; ++i) {
    try {
      sqlite::database db{dir.file("junk.db")};
      FAIL("opened a file that is not a database");
    } catch (const sqlite::error& e) {
      CHECK(std::string(e.what()).find("not a database") != std::string::npos);
    }
  }
  // Each failed open closed its connection (and file): none of the 50 is left open.
  CHECK(open_descriptors() == before);
}

TEST_CASE("a database that cannot switch to WAL is refused, naming the mode it got") {
  try {
    sqlite::database db{":memory:"};
    FAIL("accepted a database without WAL");
  } catch (const sqlite::error& e) {
    CHECK(std::string(e.what()).find("cannot switch to WAL mode") != std::string::npos);
    CHECK(std::string(e.what()).find("'memory'") != std::string::npos);
  }
}

TEST_CASE("a read-only connection checks a file while the owner keeps writing") {
  test::temp_dir dir;
  sqlite::database owner{dir.file("o.db")};
  owner.exec("CREATE TABLE k(id INTEGER)");
  sqlite::transaction tx{owner};  // the owner holds a write transaction open
  owner.prepare("INSERT INTO k VALUES (?1)").bind(1, std::int64_t{1}).run();
  sqlite::database checker{dir.file("o.db"), sqlite::durability::normal, sqlite::access::read_only};
  CHECK(checker.check().empty());  // not blocked by the writer
  CHECK_THROWS_AS(checker.exec("INSERT INTO k VALUES (2)"), sqlite::error);
  tx.commit();
  CHECK_THROWS_AS(sqlite::database(dir.file("absent.db"), sqlite::durability::normal,
                                   sqlite::access::read_only),
                  sqlite::error);
}
