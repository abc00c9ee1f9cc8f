// The orders read model (the query side of CQRS): its own SQLite file, fed by the orders
// events through a subscription (runtime/events), so it never blocks the command side and
// can be thrown away and rebuilt from the event history. Blocking; used by its own actor.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/orders/orders_protocol.hpp"
#include "runtime/events/event.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::orders {

inline constexpr const char* read_model_subscription = "orders.read_model";

// The read model's file next to orders.db: "<dir>/orders-read.db".
std::string read_model_path(const std::string& orders_db_path);

void migrate_read_model(sqlite::database& db);  // its tables and the inbox

// Applies a page of orders events to the read model inside the caller's transaction, each
// event once (the subscription's inbox); every row the page touches is read once and
// written once. Unknown types are skipped. Returns how many events took effect.
std::size_t apply_page_to_read_model(sqlite::database& db, const std::string& subscription,
                                     const std::vector<events::event_envelope>& page);

std::optional<order_view> read_order(sqlite::database& db, const std::string& id);
// Throws std::invalid_argument for a malformed cursor.
order_page read_customer_orders(sqlite::database& db, const std::string& customer,
                                std::int32_t limit, const std::string& after);
order_stats read_stats(sqlite::database& db);

// Rebuilds the read model from the orders event history in `orders_db` (opened read-only)
// into a fresh file that then replaces `read_db` (rename: all or nothing). `progress(done,
// total)` is called every page. Returns the number of events applied.
std::int64_t rebuild_read_model(const std::string& orders_db, const std::string& read_db,
                                const std::function<void(std::int64_t, std::int64_t)>& progress);

}  // namespace troupe::orders
