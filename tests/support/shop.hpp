// The shop's HTTP API as tests use it, and the invariants every test checks afterwards.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"

namespace troupe::test {

class shop_client {
 public:
  explicit shop_client(std::string http) : http_(std::move(http)) {}
  http_result create_user(const std::string& id, const std::string& name);
  http_result set_stock(const std::string& sku, long quantity, long price,
                        const std::string& currency = "EUR");
  nlohmann::json stock(const std::string& sku);
  // POST /api/orders; `key` adds an Idempotency-Key.
  http_result place(const std::string& customer,
                    const std::vector<std::pair<std::string, long>>& items,
                    const std::string& key = {});
  nlohmann::json order(const std::string& id);
  nlohmann::json payment(const std::string& id);
  nlohmann::json orders_of(const std::string& customer, int limit = 100,
                           const std::string& after = {});
  nlohmann::json stats();
  http_client& http() { return client_; }

 private:
  std::string http_;
  http_client client_{http_};
};

// What the shop must hold after any run, given the stock each SKU started with:
//  - every order the API names is final (confirmed or cancelled), none pending;
//  - per SKU: available + reserved + sold == initial, reserved == 0, sold == the units of
//    confirmed orders (cancelled orders leave stock as it was);
//  - money: every confirmed order's payment is charged for its total; and, read from the
//    payments file itself (charges a saga made before it compensated belong to no order),
//    the charges not refunded add up to the confirmed totals, one charge per paid order.
// Returns what is violated, empty when all holds. `orders` are the ids to check. A client
// is answered once its order is confirmed, before the saga's last step (committing the
// reservation) is done, so this waits up to 10 s for all to hold.
std::vector<std::string> shop_invariants(shop_client& shop,
                                         const std::map<std::string, long>& initial_stock,
                                         const std::vector<std::string>& orders,
                                         const std::string& payments_db);

}  // namespace troupe::test
