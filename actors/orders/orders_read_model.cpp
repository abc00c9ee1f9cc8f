#include "actors/orders/orders_read_model.hpp"

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "actors/orders/orders_events.hpp"
#include "runtime/events/inbox.hpp"
#include "runtime/events/outbox.hpp"

namespace troupe::orders {

namespace {

namespace d = troupe::domain::orders;
using json = nlohmann::json;

const std::vector<std::string> migrations = {
    "CREATE TABLE orders_view("
    "  id TEXT PRIMARY KEY,"
    "  customer TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  items TEXT NOT NULL,"
    "  total INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  payment TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  updated_at_ms INTEGER NOT NULL);"
    "CREATE INDEX orders_by_customer ON orders_view(customer, created_at_ms, id);"
    "CREATE TABLE status_counts(status TEXT PRIMARY KEY, count INTEGER NOT NULL);"
    "CREATE TABLE revenue(currency TEXT PRIMARY KEY, amount INTEGER NOT NULL)",
    // A cancelled order's code and reason. Rows written before had lost them, so the read
    // model starts again from the event history: the subscription replays it from offset 0.
    "ALTER TABLE orders_view ADD COLUMN cancel_code TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE orders_view ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';"
    "DELETE FROM orders_view; DELETE FROM status_counts; DELETE FROM revenue;"
    "DELETE FROM inbox_offsets WHERE subscription = 'orders.read_model';"
    "DELETE FROM inbox_applied WHERE subscription = 'orders.read_model'",
};

constexpr const char* columns =
    "id, customer, status, items, total, currency, payment, version, created_at_ms, "
    "updated_at_ms, cancel_code, cancel_reason";

order_view row_of(sqlite::statement& q) {
  order_view v;
  v.id = q.text(0);
  v.customer = q.text(1);
  v.status = q.text(2);
  v.items = lines_from(json::parse(q.text(3)));
  v.total = q.int64(4);
  v.currency = q.text(5);
  v.payment = q.text(6);
  v.version = q.int64(7);
  v.created_at_ms = q.int64(8);
  v.updated_at_ms = q.int64(9);
  v.cancel_code = q.text(10);
  v.cancel_reason = q.text(11);
  return v;
}

void count(sqlite::database& db, const std::string& status, std::int64_t delta) {
  db.prepare(
        "INSERT INTO status_counts(status, count) VALUES (?1, ?2) "
        "ON CONFLICT(status) DO UPDATE SET count = count + excluded.count")
      .bind(1, status)
      .bind(2, delta)
      .run();
}

void save(sqlite::database& db, const order_view& v) {
  db.prepare(std::string("INSERT INTO orders_view(") + columns +
             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT(id) DO "
             "UPDATE SET status = excluded.status, items = excluded.items, "
             "total = excluded.total, currency = excluded.currency, "
             "payment = excluded.payment, version = excluded.version, "
             "updated_at_ms = excluded.updated_at_ms, cancel_code = excluded.cancel_code, "
             "cancel_reason = excluded.cancel_reason")
      .bind(1, v.id)
      .bind(2, v.customer)
      .bind(3, v.status)
      .bind(4, lines_json(v.items).dump())
      .bind(5, v.total)
      .bind(6, v.currency)
      .bind(7, v.payment)
      .bind(8, v.version)
      .bind(9, v.created_at_ms)
      .bind(10, v.updated_at_ms)
      .bind(11, v.cancel_code)
      .bind(12, v.cancel_reason)
      .run();
}

// "<created_at_ms>.<id>" of the last order on a page.
std::string cursor_of(const order_view& v) {
  return std::to_string(v.created_at_ms) + "." + v.id;
}

std::pair<std::int64_t, std::string> parse_cursor(const std::string& cursor) {
  auto dot = cursor.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 19)
    throw std::invalid_argument("after is not a cursor this API gave out");
  for (std::size_t i = 0; i < dot; ++i)
    if (cursor[i] < '0' || cursor[i] > '9')
      throw std::invalid_argument("after is not a cursor this API gave out");
  auto id = cursor.substr(dot + 1);
  if (!d::valid_order_id(id))
    throw std::invalid_argument("after is not a cursor this API gave out");
  return {std::stoll(cursor.substr(0, dot)), id};
}

}  // namespace

std::string read_model_path(const std::string& orders_db_path) {
  auto p = std::filesystem::path(orders_db_path);
  return (p.parent_path() / "orders-read.db").string();
}

void migrate_read_model(sqlite::database& db) {
  events::migrate_inbox(db);  // first: a migration of the read model resets its offset
  db.migrate(migrations);
}

namespace {

// The rows and totals a page changes, kept in memory until the page is done.
class page_writer {
 public:
  explicit page_writer(sqlite::database& db) : db_(db) {}

  void apply(const events::event_envelope& e) {
    auto parsed = event_from(e.type, json::parse(e.payload, nullptr, false));
    if (!parsed) return;
    auto it = rows_.find(e.aggregate_id);
    if (it == rows_.end())
      it = rows_.emplace(e.aggregate_id, read_order(db_, e.aggregate_id).value_or(order_view{}))
               .first;
    auto& v = it->second;
    if (e.aggregate_seq <= v.version) return;  // older than what the row holds
    v.id = e.aggregate_id;
    v.version = e.aggregate_seq;
    v.updated_at_ms = e.time_ms;
    dirty_.insert(e.aggregate_id);
    std::visit(
        [&](auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, d::order_created>) {
            v.customer = x.customer;
            v.status = "pending";
            v.created_at_ms = e.time_ms;
            statuses_["pending"] += 1;
          } else if constexpr (std::is_same_v<T, d::item_added>) {
            v.items.push_back({x.sku, x.quantity, 0});
          } else if constexpr (std::is_same_v<T, d::stock_reserved>) {
            v.items = x.lines;
            v.total = x.total;
            v.currency = x.currency;
          } else if constexpr (std::is_same_v<T, d::payment_charged>) {
            v.payment = x.charge;
          } else if constexpr (std::is_same_v<T, d::order_confirmed>) {
            statuses_[v.status] -= 1;
            v.status = "confirmed";
            statuses_["confirmed"] += 1;
            revenue_[v.currency] += v.total;
          } else if constexpr (std::is_same_v<T, d::order_cancelled>) {
            statuses_[v.status] -= 1;
            v.status = "cancelled";
            v.cancel_code = x.code;
            v.cancel_reason = x.reason;
            statuses_["cancelled"] += 1;
          }
        },
        *parsed);
  }

  void write() {
    for (auto& id : dirty_) save(db_, rows_.at(id));
    for (auto& [status, delta] : statuses_)
      if (delta != 0) count(db_, status, delta);
    for (auto& [currency, amount] : revenue_)
      if (amount != 0)
        db_.prepare(
               "INSERT INTO revenue(currency, amount) VALUES (?1, ?2) "
               "ON CONFLICT(currency) DO UPDATE SET amount = amount + excluded.amount")
            .bind(1, currency)
            .bind(2, amount)
            .run();
  }

 private:
  sqlite::database& db_;
  std::map<std::string, order_view> rows_;
  std::set<std::string> dirty_;
  std::map<std::string, std::int64_t> statuses_;
  std::map<std::string, std::int64_t> revenue_;
};

}  // namespace

std::size_t apply_page_to_read_model(sqlite::database& db, const std::string& subscription,
                                     const std::vector<events::event_envelope>& page) {
  page_writer writer{db};
  auto applied = events::apply_page_once(db, subscription, page,
                                         [&](const events::event_envelope& e) { writer.apply(e); });
  writer.write();
  return applied;
}

std::optional<order_view> read_order(sqlite::database& db, const std::string& id) {
  auto& q = db.prepare(std::string("SELECT ") + columns + " FROM orders_view WHERE id = ?1");
  q.bind(1, id);
  if (!q.step()) return std::nullopt;
  auto v = row_of(q);
  q.reset();
  return v;
}

order_page read_customer_orders(sqlite::database& db, const std::string& customer,
                                std::int32_t limit, const std::string& after) {
  std::int64_t after_ms = -1;
  std::string after_id;
  if (!after.empty()) std::tie(after_ms, after_id) = parse_cursor(after);
  auto& q = db.prepare(std::string("SELECT ") + columns +
                       " FROM orders_view WHERE customer = ?1 AND (created_at_ms > ?2 OR "
                       "(created_at_ms = ?2 AND id > ?3)) ORDER BY created_at_ms, id LIMIT ?4");
  q.bind(1, customer).bind(2, after_ms).bind(3, after_id).bind(4, std::int64_t{limit} + 1);
  order_page page;
  while (q.step()) page.orders.push_back(row_of(q));
  q.reset();
  if (page.orders.size() > static_cast<std::size_t>(limit)) {
    page.orders.pop_back();
    page.next = cursor_of(page.orders.back());
  }
  return page;
}

order_stats read_stats(sqlite::database& db) {
  order_stats out;
  auto& s = db.prepare("SELECT status, count FROM status_counts WHERE count != 0 ORDER BY status");
  while (s.step()) out.by_status.emplace_back(s.text(0), s.int64(1));
  s.reset();
  auto& r = db.prepare("SELECT currency, amount FROM revenue ORDER BY currency");
  while (r.step()) out.revenue.emplace_back(r.text(0), r.int64(1));
  r.reset();
  return out;
}

std::int64_t rebuild_read_model(const std::string& orders_db, const std::string& read_db,
                                const std::function<void(std::int64_t, std::int64_t)>& progress) {
  sqlite::database source{orders_db, sqlite::durability::full, sqlite::access::read_only};
  auto total = events::last_offset(source);
  auto fresh = read_db + ".rebuild";
  for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(fresh + suffix);
  std::int64_t applied = 0;
  {
    sqlite::database target{fresh};
    migrate_read_model(target);
    std::int64_t after = 0;
    for (;;) {
      auto page = events::read_after(source, after, 1000);
      if (page.empty()) break;
      sqlite::transaction tx{target};
      applied += static_cast<std::int64_t>(
          apply_page_to_read_model(target, read_model_subscription, page));
      after = page.back().offset;
      tx.commit();
      if (progress) progress(after, total);
    }
    target.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  for (auto suffix : {"-wal", "-shm"}) std::filesystem::remove(read_db + suffix);
  std::filesystem::rename(fresh, read_db);
  for (auto suffix : {"-wal", "-shm"}) std::filesystem::remove(fresh + suffix);
  return applied;
}

}  // namespace troupe::orders
