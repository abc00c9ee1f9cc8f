// What the fuzz targets share: the shop's capabilities as the binary knows them.
#pragma once

#include <vector>

#include "actors/gateway/gateway.hpp"
#include "actors/inventory/inventory_protocol.hpp"
#include "actors/orders/orders_protocol.hpp"
#include "actors/payments/payments_protocol.hpp"
#include "actors/users/users_protocol.hpp"

namespace troupe::fuzz {

inline const std::vector<capability>& shop_capabilities() {
  static const std::vector<capability> known{
      users::users_capability(),       inventory::inventory_capability(),
      payments::payments_capability(), orders::orders_capability(),
      gateway::gateway_capability(),
  };
  return known;
}

}  // namespace troupe::fuzz
