#include "runtime/storage/database_checker.hpp"

#include <sqlite3.h>
#include <caf/all.hpp>

#include "runtime/core/atoms.hpp"
#include "runtime/core/time.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe {

namespace {

using check_atom = caf::atom_constant<caf::atom("dbcheck")>;

health_check check_one(const database_to_check& db) {
  health_check out{db.name, false, ""};
  try {
    // A fresh connection per round: nothing is held open between checks.
    sqlite::database conn{db.path, sqlite::durability::normal, sqlite::access::read_only};
    auto problem = conn.check();
    out.ok = problem.empty();
    out.detail = out.ok ? "quick_check ok at " + format_utc_ms(unix_now_ms())
                        : "quick_check: " + problem.substr(0, 200);
  } catch (const sqlite::error& e) {
    // SQLite's own text for the code: our messages name the file, which /health must not.
    out.detail = std::string("cannot check: ") + sqlite3_errstr(e.code());
  }
  return out;
}

struct checker_state {
  static inline const char* name = "troupe.database_checker";
};

caf::behavior checker(caf::stateful_actor<checker_state>* self, std::vector<database_to_check> dbs,
                      std::chrono::milliseconds interval, caf::actor report_to) {
  self->send(self, check_atom::value);
  return {
      [=](check_atom) {
        for (auto& db : dbs) self->send(report_to, health_atom::value, check_one(db));
        self->delayed_send(self, interval, check_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_database_checker(caf::actor_system& system, std::vector<database_to_check> dbs,
                                  std::chrono::milliseconds interval, caf::actor report_to) {
  return system.spawn<caf::detached>(checker, std::move(dbs), interval, std::move(report_to));
}

health_settings read_health_settings(settings_reader& r) {
  health_settings out;
  out.database_check_interval = r.milliseconds("database_check_interval_ms", 100, 86'400'000,
                                               out.database_check_interval.count());
  return out;
}

}  // namespace troupe
