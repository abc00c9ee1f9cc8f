// The orders command side in SQLite: each order's events (the outbox is the event store:
// aggregate id = order id, aggregate seq = version), snapshots every N events, the claims of
// Idempotency-Keys, and the customers orders knows from users' UserCreated events. Blocking;
// used only by the store actor, inside its write batch.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actors/orders/orders_protocol.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::orders {

void migrate_orders(sqlite::database& db);

// The order as its snapshot and later events say; state none when it has no events.
domain::orders::order load_order(sqlite::database& db, const std::string& id);

// Appends `events` (decided against `o`) to the event store and applies them to `o`; writes a
// snapshot whenever the version crosses a multiple of `snapshot_every`.
void append_events(sqlite::database& db, domain::orders::order& o,
                   const std::vector<domain::orders::event>& events, const call_context& ctx,
                   std::int64_t snapshot_every);

std::vector<history_entry> history_of(sqlite::database& db, const std::string& id);
order_view view_of(const domain::orders::order& o);

// An Idempotency-Key's claim: the saga it started and the request it was made with.
struct request_claim {
  std::string saga_id;
  std::string order_id;
  std::string request;  // canonical text of the request
};
std::optional<request_claim> find_claim(sqlite::database& db, const std::string& key);
void insert_claim(sqlite::database& db, const std::string& key, const request_claim& claim);

// Customers, from users' events.
void save_customer(sqlite::database& db, const std::string& id, const std::string& name,
                   const std::string& email);
// The customer's name, when users' events told orders of it.
std::optional<std::string> customer_name(sqlite::database& db, const std::string& id);

// Applies a decision to `o`: its events appended (the answer, the order's view), or its
// rejection as the answer.
caf::expected<order_view> decide(sqlite::database& db, domain::orders::order& o,
                                 const domain::orders::decision& decision, const call_context& ctx,
                                 std::int64_t snapshot_every);

// The saga steps orders takes part in, each once per cmd.ctx.idempotency_key (ledger.hpp):
// the store's handlers and the place-order saga's local steps both run these.
caf::expected<order_view> create_once(sqlite::database& db, caf::actor_system& sys,
                                      const create_order& cmd, std::int64_t snapshot_every);
caf::expected<order_view> confirm_once(sqlite::database& db, caf::actor_system& sys,
                                       const confirm_order& cmd, std::int64_t snapshot_every);

}  // namespace troupe::orders
