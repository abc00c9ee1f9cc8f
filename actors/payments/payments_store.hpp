// The payments capability's tables. Blocking; used only by its store actor.
#pragma once

#include <optional>
#include <string>

#include "actors/payments/payments_protocol.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::payments {

void migrate_payments(sqlite::database& db);
void insert_charge(sqlite::database& db, const charge& c, const std::string& step_key);
std::optional<charge> find_charge(sqlite::database& db, const std::string& id);
std::optional<charge> find_charge_by_key(sqlite::database& db, const std::string& step_key);
void set_charge_status(sqlite::database& db, const std::string& id, const std::string& status,
                       std::int64_t now_ms);

}  // namespace troupe::payments
