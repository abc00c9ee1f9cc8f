// The inventory capability's tables. Blocking; used only by its store actor, inside its
// write batch.
#pragma once

#include <optional>
#include <string>

#include "actors/inventory/inventory_protocol.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::inventory {

void migrate_inventory(sqlite::database& db);

std::optional<stock_item> find_stock(sqlite::database& db, const std::string& sku);
void save_stock(sqlite::database& db, const stock_item& item, std::int64_t now_ms);

void insert_reservation(sqlite::database& db, const reservation& r, const std::string& step_key,
                        std::int64_t now_ms);
std::optional<reservation> find_reservation(sqlite::database& db, const std::string& id);
std::optional<reservation> find_reservation_by_key(sqlite::database& db,
                                                   const std::string& step_key);
void set_reservation_state(sqlite::database& db, const std::string& id, const std::string& state,
                           std::int64_t now_ms);

}  // namespace troupe::inventory
