// The orders capability's HTTP routes and the plain functions behind them.
//
//   POST /api/orders              {"customer", "items": [{"sku", "quantity"}]}
//                                 [Idempotency-Key: <1..255 visible ASCII characters>]
//                                 -> 201 the confirmed order, or the error (409 out_of_stock,
//                                 402 payment_declined, 404 unknown_customer, 400 ...) with
//                                 "order_id" when an order was created and then cancelled
//   GET  /api/orders/{id}         -> 200 the order with "status" and "history"
//   GET  /api/orders?customer=ID&limit=N&after=CURSOR -> 200 {"orders": [...], "next"}
//   GET  /api/orders/stats        -> 200 {"by_status": {...}, "revenue": {...}}
//   POST /api/orders/{id}/items   {"sku", "quantity"} -> 200 the order (pending ones only)
#pragma once

#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json_fwd.hpp>

#include "actors/orders/orders_protocol.hpp"
#include "runtime/http/message.hpp"
#include "runtime/http/router.hpp"

namespace troupe::orders {

// 100 items of a 64-character SKU and a quantity fit well within it.
inline constexpr std::size_t place_body_limit = 16384;
inline constexpr std::size_t max_idempotency_key = 255;

std::vector<route> orders_routes();

caf::expected<place_order> place_order_from_json(const nlohmann::json& body);
caf::expected<list_orders> list_orders_from_target(std::string_view target);
nlohmann::json order_json(const order_view& v, bool with_history);
// The saga's reply as the HTTP answer: 201 + Location, or the error with "order_id".
http_response placed_response(const saga::result& r, std::string_view request_id);

}  // namespace troupe::orders
