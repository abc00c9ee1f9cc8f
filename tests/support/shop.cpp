#include "tests/support/shop.hpp"

#include "runtime/storage/sqlite.hpp"
#include "tests/support/process.hpp"

namespace troupe::test {

using json = nlohmann::json;

http_result shop_client::create_user(const std::string& id, const std::string& name) {
  return client_.post_json("/api/users",
                           json{{"id", id}, {"name", name}, {"email", id + "@example.com"}}.dump());
}

http_result shop_client::set_stock(const std::string& sku, long quantity, long price,
                                   const std::string& currency) {
  return client_.request(
      "PUT", "/api/inventory/" + sku,
      json{{"quantity", quantity}, {"price", price}, {"currency", currency}}.dump(),
      {{"Content-Type", "application/json"}});
}

json shop_client::stock(const std::string& sku) {
  return json::parse(client_.get("/api/inventory/" + sku).body);
}

http_result shop_client::place(const std::string& customer,
                               const std::vector<std::pair<std::string, long>>& items,
                               const std::string& key) {
  json list = json::array();
  for (auto& [sku, quantity] : items) list.push_back({{"sku", sku}, {"quantity", quantity}});
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
  if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
  return client_.request("POST", "/api/orders",
                         json{{"customer", customer}, {"items", list}}.dump(), headers);
}

json shop_client::order(const std::string& id) {
  auto r = client_.get("/api/orders/" + id);
  return r.status == 200 ? json::parse(r.body) : json(nullptr);
}

json shop_client::payment(const std::string& id) {
  auto r = client_.get("/api/payments/" + id);
  return r.status == 200 ? json::parse(r.body) : json(nullptr);
}

json shop_client::orders_of(const std::string& customer, int limit, const std::string& after) {
  auto target = "/api/orders?customer=" + customer + "&limit=" + std::to_string(limit);
  if (!after.empty()) target += "&after=" + after;
  return json::parse(client_.get(target).body);
}

json shop_client::stats() {
  return json::parse(client_.get("/api/orders/stats").body);
}

namespace {

std::vector<std::string> invariants_now(shop_client& shop,
                                        const std::map<std::string, long>& initial_stock,
                                        const std::vector<std::string>& orders,
                                        const std::string& payments_db) {
  std::vector<std::string> problems;
  std::map<std::string, long> sold;
  long confirmed_total = 0, paid_orders = 0;
  for (auto& id : orders) {
    auto o = shop.order(id);
    if (o.is_null()) {
      problems.push_back("order " + id + " is not found");
      continue;
    }
    auto status = o["status"].get<std::string>();
    if (status == "confirmed") {
      for (auto& item : o["items"]) sold[item["sku"]] += item["quantity"].get<long>();
      confirmed_total += o["total"].get<long>();
      if (o["total"].get<long>() > 0) ++paid_orders;
      if (o["total"].get<long>() > 0) {
        auto p = shop.payment(o["payment"].get<std::string>());
        if (p.is_null() || p["status"] != "charged" || p["amount"] != o["total"])
          problems.push_back("confirmed order " + id + " is not charged its total");
      }
    } else if (status == "cancelled") {
      if (o["payment"].is_string()) {
        auto p = shop.payment(o["payment"].get<std::string>());
        if (p.is_null() || p["status"] != "refunded")
          problems.push_back("cancelled order " + id + " kept its payment");
      }
    } else {
      problems.push_back("order " + id + " is " + status + ", not final");
    }
  }
  {
    sqlite::database db{payments_db, sqlite::durability::full, sqlite::access::read_only};
    auto& q = db.prepare(
        "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM charges WHERE status = 'charged'");
    q.step();
    auto charged = q.int64(0), amount = q.int64(1);
    q.reset();
    if (charged != paid_orders || amount != confirmed_total)
      problems.push_back("payments hold " + std::to_string(charged) + " charges for " +
                         std::to_string(amount) +
                         " not refunded; confirmed orders: " + std::to_string(paid_orders) +
                         " paid for " + std::to_string(confirmed_total));
  }
  for (auto& [sku, initial] : initial_stock) {
    auto s = shop.stock(sku);
    auto available = s["quantity"].get<long>(), reserved = s["reserved"].get<long>();
    if (reserved != 0)
      problems.push_back(sku + ": " + std::to_string(reserved) + " units still reserved");
    if (available + reserved + sold[sku] != initial)
      problems.push_back(sku + ": available " + std::to_string(available) + " + reserved " +
                         std::to_string(reserved) + " + sold " + std::to_string(sold[sku]) +
                         " != initial " + std::to_string(initial));
  }
  return problems;
}

}  // namespace

std::vector<std::string> shop_invariants(shop_client& shop,
                                         const std::map<std::string, long>& initial_stock,
                                         const std::vector<std::string>& orders,
                                         const std::string& payments_db) {
  std::vector<std::string> problems;
  eventually(
      [&] {
        problems = invariants_now(shop, initial_stock, orders, payments_db);
        return problems.empty();
      },
      std::chrono::seconds{10});
  return problems;
}

}  // namespace troupe::test
