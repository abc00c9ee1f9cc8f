// The orders capability's contract. Orders are event-sourced (domain/orders/order.hpp): the
// command side keeps each order's events (its outbox doubles as the event store) with
// snapshots; a read model fed by those events answers lists and statistics (CQRS). Placing an
// order runs the place-order saga: check customer -> create pending order -> reserve stock
// -> charge payment -> confirm order -> commit the reservation; on a failure the completed
// steps are compensated in reverse (refund, release, cancel).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "domain/orders/order.hpp"
#include "runtime/core/atoms.hpp"
#include "runtime/core/call_context.hpp"
#include "runtime/node/capability.hpp"
#include "runtime/saga/log.hpp"
#include "runtime/saga/saga.hpp"

namespace troupe::domain::orders {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, line& x) {
  return f(caf::meta::type_name("orders.line"), x.sku, x.quantity, x.price);
}

}  // namespace troupe::domain::orders

namespace troupe::orders {

using line = domain::orders::line;

// An order names a customer that does not exist (404). (18 and 19: their numbers while the
// runtime defined them, which stored answers may still carry.)
inline constexpr error_code unknown_customer{"unknown_customer", 404, retry_class::never,
                                             saga_reaction::compensate, 18};
// An Idempotency-Key came back with a different request (422).
inline constexpr error_code idempotency_key_reused{
    "idempotency_key_reused", 422, retry_class::never, saga_reaction::compensate, 19};

// One event of an order's history.
struct history_entry {
  std::int64_t seq = 0;
  std::string type;
  std::int64_t time_ms = 0;
  std::string payload;  // JSON
};

// An order as the capability answers it.
struct order_view {
  std::string id;
  std::string customer;
  std::string status;  // "pending", "confirmed", "cancelled"; empty: no order
  std::vector<line> items;
  std::int64_t total = 0;
  std::string currency;
  std::string payment;
  std::string reservation;
  std::string cancel_code;
  std::string cancel_reason;
  std::int64_t version = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::vector<history_entry> history;  // filled by get_order only
};

// Runs the place-order saga. `request_key` (the HTTP Idempotency-Key, may be empty) makes a
// retried request return the first one's answer with one effect, also across restarts; the
// same key with a different request is idempotency_key_reused. Answers the saga's result:
// outcome "completed" or "compensated", and its reply (JSON: {"order": {...}} or
// {"error": {"code", "message", "field"?}, "order_id"?}).
struct place_order {
  call_context ctx;
  std::string customer;
  std::vector<line> items;  // prices are ignored: inventory prices them
  std::string request_key;
};

// Reads one order with its history, from the command side (current the moment a placing
// request has been answered). Answers order_view, or not_found.
struct get_order {
  call_context ctx;
  std::string id;
};

// Adds an item to a pending order that has no reservation yet. Answers the order, or
// conflict (e.g. the order is cancelled), not_found, invalid_argument.
struct add_order_item {
  call_context ctx;
  std::string order_id;
  line item;
};

// The read model: a customer's orders, oldest first, `limit` (1..100) per page after the
// cursor `after` (empty: from the start). Answers order_page.
struct list_orders {
  call_context ctx;
  std::string customer;
  std::int32_t limit = 20;
  std::string after;
};

struct order_page {
  std::vector<order_view> orders;
  std::string next;  // cursor of the next page; empty when this is the last
};

// The read model: orders by status, confirmed revenue by currency. Answers order_stats.
struct get_order_stats {
  call_context ctx;
};

struct order_stats {
  std::vector<std::pair<std::string, std::int64_t>> by_status;
  std::vector<std::pair<std::string, std::int64_t>> revenue;
};

// Saga steps of orders itself, sent through the caller like every other step; keyed by
// ctx.idempotency_key. create_order: creates the pending order (answers it).
// confirm_order: records reservation and payment and confirms (answers the order).
// cancel_order: the compensation of create_order, keyed by its key: cancels the order, or
// leaves a tombstone when it does not exist (yet) and answers an empty order.
struct create_order {
  call_context ctx;
  std::string order_id;
  std::string customer;
  std::vector<line> items;
};

struct confirm_order {
  call_context ctx;
  std::string order_id;
  std::string reservation;
  std::vector<line> lines;  // priced
  std::int64_t total = 0;
  std::string currency;
  std::string charge;
  std::int64_t amount = 0;
};

struct cancel_order {
  call_context ctx;
  std::string order_id;
  std::string code;
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_entry& x) {
  return f(caf::meta::type_name("orders.history_entry"), x.seq, x.type, x.time_ms, x.payload);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_view& x) {
  return f(caf::meta::type_name("orders.order_view"), x.id, x.customer, x.status, x.items, x.total,
           x.currency, x.payment, x.reservation, x.cancel_code, x.cancel_reason, x.version,
           x.created_at_ms, x.updated_at_ms, x.history);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, place_order& x) {
  return f(caf::meta::type_name("orders.place_order"), x.ctx, x.customer, x.items, x.request_key);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_order& x) {
  return f(caf::meta::type_name("orders.get_order"), x.ctx, x.id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, add_order_item& x) {
  return f(caf::meta::type_name("orders.add_order_item"), x.ctx, x.order_id, x.item);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_orders& x) {
  return f(caf::meta::type_name("orders.list_orders"), x.ctx, x.customer, x.limit, x.after);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_page& x) {
  return f(caf::meta::type_name("orders.order_page"), x.orders, x.next);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_order_stats& x) {
  return f(caf::meta::type_name("orders.get_order_stats"), x.ctx);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_stats& x) {
  return f(caf::meta::type_name("orders.order_stats"), x.by_status, x.revenue);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_order& x) {
  return f(caf::meta::type_name("orders.create_order"), x.ctx, x.order_id, x.customer, x.items);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, confirm_order& x) {
  return f(caf::meta::type_name("orders.confirm_order"), x.ctx, x.order_id, x.reservation, x.lines,
           x.total, x.currency, x.charge, x.amount);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_order& x) {
  return f(caf::meta::type_name("orders.cancel_order"), x.ctx, x.order_id, x.code, x.reason);
}

using orders_actor =
    caf::typed_actor<caf::replies_to<place_order>::with<saga::result>,
                     caf::replies_to<get_order>::with<order_view>,
                     caf::replies_to<add_order_item>::with<order_view>,
                     caf::replies_to<list_orders>::with<order_page>,
                     caf::replies_to<get_order_stats>::with<order_stats>,
                     caf::replies_to<create_order>::with<order_view>,
                     caf::replies_to<confirm_order>::with<order_view>,
                     caf::replies_to<cancel_order>::with<order_view>,
                     // The admin listener's GET /sagas and /sagas/{id}.
                     caf::replies_to<saga::list_sagas>::with<std::vector<saga::saga_record>>,
                     caf::replies_to<saga::find_saga>::with<saga::saga_record>,
                     caf::replies_to<health_atom>::with<health_report>,
                     // The node stops: refuse new orders, answer once no saga runs here.
                     caf::replies_to<drain_atom>::with<bool>>;

// Topology: "capabilities": {"orders": {"snapshot_every": 10, "step_timeout_ms": 5000,
// "step_attempts": 5, "retry_backoff_max_ms": 2000}}.
struct orders_settings {
  std::int64_t snapshot_every = 10;  // events between snapshots of an order
  std::chrono::milliseconds step_timeout{5000};
  int step_attempts = 5;                              // per forward saga step before compensating
  std::chrono::milliseconds retry_backoff_max{2000};  // longest wait between retries
};

// The place-order saga's definition.
inline constexpr const char* place_order_name = "place-order";
inline constexpr std::int32_t place_order_version = 1;
std::shared_ptr<const saga::definition> place_order_saga(const orders_settings& settings);

void register_orders_types(caf::actor_system_config& cfg);

// Name "orders"; calls users, inventory and payments; keeps orders.db (events, snapshots,
// saga log, ledger) and orders-read.db (the read model); owns sagas; serves /api/orders.
capability orders_capability();

}  // namespace troupe::orders
