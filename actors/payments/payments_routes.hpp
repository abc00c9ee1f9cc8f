// The payments capability's HTTP routes.
//
//   GET /api/payments/{id}  -> 200 {"id", "customer", "amount", "currency", "status"}
#pragma once

#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/payments/payments_protocol.hpp"
#include "runtime/http/router.hpp"

namespace troupe::payments {

std::vector<route> payments_routes();
nlohmann::json charge_json(const charge& c);

}  // namespace troupe::payments
