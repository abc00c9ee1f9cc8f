// Integrity checks of a node's SQLite files, off every capability's own thread.
//
// PRAGMA quick_check reads the whole file; run on a store's only thread for every /health
// probe it stalled writes and timed probes out on large files. The checker runs it on a
// thread and a read-only connection of its own (WAL lets it read while the owner writes),
// at start and then every `interval`, and reports each result; /health reads the latest.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/core/settings.hpp"

namespace troupe {

// "health": how /health gets its facts.
struct health_settings {
  std::chrono::milliseconds database_check_interval{60000};
};

// Reads "health". Throws settings_error.
health_settings read_health_settings(settings_reader& r);

struct database_to_check {
  std::string name;  // as /health shows it, e.g. "users.db"; never the path
  std::string path;
};

// Sends `report_to` a (health_atom, health_check) per database after every check. Exit it to
// stop; a check in progress finishes first.
caf::actor spawn_database_checker(caf::actor_system& system, std::vector<database_to_check> dbs,
                                  std::chrono::milliseconds interval, caf::actor report_to);

}  // namespace troupe
