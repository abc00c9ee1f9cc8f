// The inventory capability's HTTP routes and the plain functions behind them.
//
//   PUT /api/inventory/{sku}  {"quantity": 10, "price": 1500, "currency": "EUR"}
//                             -> 200 {"sku", "quantity", "reserved", "price", "currency"}
//   GET /api/inventory/{sku}  -> 200, the same shape
#pragma once

#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json_fwd.hpp>

#include "actors/inventory/inventory_protocol.hpp"
#include "runtime/http/router.hpp"

namespace troupe::inventory {

inline constexpr std::size_t stock_body_limit = 1024;

std::vector<route> inventory_routes();

// A set_stock command from a JSON body and the SKU of the path; all three fields required,
// integers for quantity and price (minor units), unknown fields refused by name.
caf::expected<set_stock> set_stock_from_json(const std::string& sku, const nlohmann::json& body);

nlohmann::json stock_json(const stock_item& item);

}  // namespace troupe::inventory
