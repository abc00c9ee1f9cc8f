// The inventory capability's contract: stock per SKU, and reservations that a saga makes,
// releases (its compensation) and commits. Saga steps carry their idempotency key in the
// call context; the capability records each key with its answer in the same transaction as
// the change, so a repeated step or compensation has one effect and the first answer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "domain/inventory/inventory_rules.hpp"
#include "runtime/core/atoms.hpp"
#include "runtime/core/call_context.hpp"
#include "runtime/node/capability.hpp"
#include "runtime/observability/metrics.hpp"
#include "runtime/supervision/child.hpp"

namespace troupe::domain::inventory {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_item& x) {
  return f(caf::meta::type_name("inventory.stock_item"), x.sku, x.quantity, x.reserved, x.price,
           x.currency);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, line& x) {
  return f(caf::meta::type_name("inventory.line"), x.sku, x.quantity, x.price);
}

}  // namespace troupe::domain::inventory

namespace troupe::inventory {

using stock_item = domain::inventory::stock_item;
using line = domain::inventory::line;

// A reservation asked for more than is available (409): a business answer.
// (16: its number while the runtime defined it, which answers stored in ledgers still carry.)
inline constexpr error_code out_of_stock{"out_of_stock", 409, retry_class::never,
                                         saga_reaction::compensate, 16};

// Sets a SKU's available quantity, unit price and currency, creating the SKU if new; units
// held by reservations stay held. Answers the stored item, or invalid_argument naming the
// field.
struct set_stock {
  call_context ctx;
  stock_item item;  // `reserved` is ignored
};

// Reads one SKU. Answers the item, or not_found.
struct get_stock {
  call_context ctx;
  std::string sku;
};

// A reservation as inventory answers it.
struct reservation {
  std::string id;
  std::string state;        // "reserved", "released", "committed", or "none" (nothing was held)
  std::vector<line> lines;  // priced at reservation time
  std::int64_t total = 0;
  std::string currency;
};

// A saga step: reserves every line or none (never below zero), under ctx.idempotency_key
// (required). Answers the reservation; out_of_stock naming the SKU; invalid_argument for an
// unknown SKU, mixed currencies or bad lines; compensated when its release came first.
struct reserve_stock {
  call_context ctx;
  std::vector<line> lines;  // prices are ignored
};

// The compensation of reserve_stock: ctx.idempotency_key is the reserve step's key. Puts the
// units back if that step reserved them (state "released"); otherwise leaves a tombstone so a
// late reserve does nothing (state "none"). Repeats answer the first answer.
struct release_reservation {
  call_context ctx;
};

// After the order is confirmed: the reserved units leave stock for good. Idempotent under
// ctx.idempotency_key. Answers the reservation in state "committed"; not_found for an
// unknown reservation; conflict when it was released.
struct commit_reservation {
  call_context ctx;
  std::string reservation_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, set_stock& x) {
  return f(caf::meta::type_name("inventory.set_stock"), x.ctx, x.item);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_stock& x) {
  return f(caf::meta::type_name("inventory.get_stock"), x.ctx, x.sku);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reservation& x) {
  return f(caf::meta::type_name("inventory.reservation"), x.id, x.state, x.lines, x.total,
           x.currency);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reserve_stock& x) {
  return f(caf::meta::type_name("inventory.reserve_stock"), x.ctx, x.lines);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, release_reservation& x) {
  return f(caf::meta::type_name("inventory.release_reservation"), x.ctx);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_reservation& x) {
  return f(caf::meta::type_name("inventory.commit_reservation"), x.ctx, x.reservation_id);
}

using inventory_actor = caf::typed_actor<caf::replies_to<set_stock>::with<stock_item>,
                                         caf::replies_to<get_stock>::with<stock_item>,
                                         caf::replies_to<reserve_stock>::with<reservation>,
                                         caf::replies_to<release_reservation>::with<reservation>,
                                         caf::replies_to<commit_reservation>::with<reservation>,
                                         caf::replies_to<health_atom>::with<health_report>>;

struct inventory_config {
  std::string database_path;
  bool detached_store = true;  // deterministic tests run the store on the test coordinator
  // Under a supervisor (capability_context::supervise): the store is a child restarted on its
  // own under one-for-one. Empty: the store is spawned once and linked to the front.
  supervise_function supervise;
  // Work that waited longer than its bound in queues is shed (core/error.hpp queue_bound).
  queue_bound shedding{};
  commit_metrics commits{};  // its store's group commits (metrics::for_database)
};

// The front (rules, failpoints, deadlines) and its store (SQLite, group commit, outbox): a
// supervised child when config.supervise is set, else linked to the front.
inventory_actor spawn_inventory(caf::actor_system& system, const inventory_config& config);

void register_inventory_types(caf::actor_system_config& cfg);

// Name "inventory", calls nothing, keeps inventory.db; serves PUT and GET
// /api/inventory/{sku} (inventory_routes.hpp).
capability inventory_capability();

}  // namespace troupe::inventory
