// The raw SQLite commit rate of this machine, as troupe opens its files (WAL,
// synchronous=FULL): one single-row transaction after another, and rows batched 50 per
// commit. The baseline beside which the saga benchmark's figures mean something.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "runtime/storage/sqlite.hpp"

using namespace troupe;

namespace {

double rate(sqlite::database& db, int rows_per_commit, std::chrono::seconds length) {
  long rows = 0;
  auto start = std::chrono::steady_clock::now();
  auto end = start + length;
  while (std::chrono::steady_clock::now() < end) {
    sqlite::transaction tx{db};
    for (int i = 0; i < rows_per_commit; ++i)
      db.prepare("INSERT INTO t(v) VALUES (?1)").bind(1, std::int64_t{rows++}).run();
    tx.commit();
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return rows / took.count();
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = argc > 1 ? std::atoi(argv[1]) : 3;
  auto dir = std::filesystem::temp_directory_path() / "troupe-bench-sqlite";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    sqlite::database db{(dir / "bench.db").string(), sqlite::durability::full};
    db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
    auto single = rate(db, 1, std::chrono::seconds{seconds});
    auto batched = rate(db, 50, std::chrono::seconds{seconds});
    std::printf("sqlite_commits_per_s %.0f\nsqlite_rows_per_s_batched_50 %.0f\n", single, batched);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
