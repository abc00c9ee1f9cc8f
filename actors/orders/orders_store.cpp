#include "actors/orders/orders_store.hpp"

#include "actors/orders/orders_events.hpp"
#include "runtime/core/time.hpp"
#include "runtime/events/outbox.hpp"
#include "runtime/saga/ledger.hpp"

namespace troupe::orders {

namespace {

namespace d = troupe::domain::orders;
using json = nlohmann::json;

const std::vector<std::string> migrations = {
    "CREATE TABLE order_snapshots("
    "  order_id TEXT PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  state TEXT NOT NULL);"
    "CREATE TABLE order_requests("
    "  key TEXT PRIMARY KEY,"
    "  saga_id TEXT NOT NULL,"
    "  order_id TEXT NOT NULL,"
    "  request TEXT NOT NULL,"
    "  created_at_ms INTEGER NOT NULL);"
    "CREATE TABLE customers("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  email TEXT NOT NULL)",
};

}  // namespace

void migrate_orders(sqlite::database& db) {
  db.migrate(migrations);
}

d::order load_order(sqlite::database& db, const std::string& id) {
  d::order o;
  o.id = id;
  auto& snap = db.prepare("SELECT state FROM order_snapshots WHERE order_id = ?1");
  snap.bind(1, id);
  if (snap.step()) o = order_state_from(json::parse(snap.text(0)));
  snap.reset();
  auto& q = db.prepare(
      "SELECT type, payload, time_ms FROM outbox WHERE aggregate_id = ?1 AND aggregate_seq > ?2 "
      "ORDER BY aggregate_seq");
  q.bind(1, id).bind(2, o.version);
  while (q.step()) {
    auto e = event_from(q.text(0), json::parse(q.text(1)));
    if (e) d::apply(o, *e, q.int64(2));
  }
  q.reset();
  return o;
}

void append_events(sqlite::database& db, d::order& o, const std::vector<d::event>& events,
                   const call_context& ctx, std::int64_t snapshot_every) {
  auto now = unix_now_ms();
  bool snapshot = false;
  for (auto& e : events) {
    d::apply(o, e, now);
    events::event_envelope env;
    env.type = d::event_type(e);
    env.source = "orders";
    env.aggregate_id = o.id;
    env.aggregate_seq = o.version;
    env.time_ms = now;
    env.trace_id = ctx.trace_id;
    env.payload = event_payload(e).dump();
    events::append(db, env);
    if (snapshot_every > 0 && o.version % snapshot_every == 0) snapshot = true;
  }
  if (snapshot)
    db.prepare(
          "INSERT INTO order_snapshots(order_id, version, state) VALUES (?1, ?2, ?3) "
          "ON CONFLICT(order_id) DO UPDATE SET version = excluded.version, state = "
          "excluded.state")
        .bind(1, o.id)
        .bind(2, o.version)
        .bind(3, order_state_json(o).dump())
        .run();
}

std::vector<history_entry> history_of(sqlite::database& db, const std::string& id) {
  std::vector<history_entry> out;
  for (auto& e : events::read_aggregate(db, id))
    out.push_back({e.aggregate_seq, e.type, e.time_ms, e.payload});
  return out;
}

order_view view_of(const d::order& o) {
  order_view v;
  if (o.state == d::status::none) return v;
  v.id = o.id;
  v.customer = o.customer;
  v.status = d::status_name(o.state);
  v.items = o.items;
  v.total = o.total;
  v.currency = o.currency;
  v.payment = o.payment;
  v.reservation = o.reservation;
  v.cancel_code = o.cancel_code;
  v.cancel_reason = o.cancel_reason;
  v.version = o.version;
  v.created_at_ms = o.created_at_ms;
  v.updated_at_ms = o.updated_at_ms;
  return v;
}

std::optional<request_claim> find_claim(sqlite::database& db, const std::string& key) {
  auto& q = db.prepare("SELECT saga_id, order_id, request FROM order_requests WHERE key = ?1");
  q.bind(1, key);
  if (!q.step()) return std::nullopt;
  request_claim c{q.text(0), q.text(1), q.text(2)};
  q.reset();
  return c;
}

void insert_claim(sqlite::database& db, const std::string& key, const request_claim& claim) {
  db.prepare(
        "INSERT INTO order_requests(key, saga_id, order_id, request, created_at_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind(1, key)
      .bind(2, claim.saga_id)
      .bind(3, claim.order_id)
      .bind(4, claim.request)
      .bind(5, unix_now_ms())
      .run();
}

void save_customer(sqlite::database& db, const std::string& id, const std::string& name,
                   const std::string& email) {
  db.prepare(
        "INSERT INTO customers(id, name, email) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE "
        "SET name = excluded.name, email = excluded.email")
      .bind(1, id)
      .bind(2, name)
      .bind(3, email)
      .run();
}

std::optional<std::string> customer_name(sqlite::database& db, const std::string& id) {
  auto& q = db.prepare("SELECT name FROM customers WHERE id = ?1");
  q.bind(1, id);
  std::optional<std::string> out;
  if (q.step()) out = q.text(0);
  q.reset();
  return out;
}

namespace {

caf::error rejection_error(const d::rejection& r) {
  if (r.why == d::rejection::kind::invalid)
    return make_error(errc::invalid_argument, r.field + " " + r.message, r.field);
  return make_error(errc::conflict, r.message);
}

}  // namespace

caf::expected<order_view> decide(sqlite::database& db, d::order& o, const d::decision& decision,
                                 const call_context& ctx, std::int64_t snapshot_every) {
  if (auto r = std::get_if<d::rejection>(&decision)) return rejection_error(*r);
  append_events(db, o, std::get<std::vector<d::event>>(decision), ctx, snapshot_every);
  return view_of(o);
}

caf::expected<order_view> create_once(sqlite::database& db, caf::actor_system& sys,
                                      const create_order& cmd, std::int64_t snapshot_every) {
  return saga::step_once<order_view>(db, sys, cmd.ctx.idempotency_key, [&] {
    auto o = load_order(db, cmd.order_id);
    return decide(db, o, d::create(o, cmd.customer, cmd.items), cmd.ctx, snapshot_every);
  });
}

caf::expected<order_view> confirm_once(sqlite::database& db, caf::actor_system& sys,
                                       const confirm_order& cmd, std::int64_t snapshot_every) {
  return saga::step_once<
      order_view>(db, sys, cmd.ctx.idempotency_key, [&]() -> caf::expected<order_view> {
    auto o = load_order(db, cmd.order_id);
    if (o.state == d::status::none)
      return make_error(errc::not_found, "no order '" + cmd.order_id + "'");
    auto reserved = d::record_reservation(o, {cmd.reservation, cmd.lines, cmd.total, cmd.currency});
    auto step = decide(db, o, reserved, cmd.ctx, snapshot_every);
    if (!step) return step;
    step = decide(db, o, d::record_payment(o, {cmd.charge, cmd.amount}), cmd.ctx, snapshot_every);
    if (!step) return step;
    return decide(db, o, d::confirm(o), cmd.ctx, snapshot_every);
  });
}

}  // namespace troupe::orders
