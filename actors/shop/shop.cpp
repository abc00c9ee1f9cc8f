#include "actors/shop/shop.hpp"

#include "actors/gateway/gateway.hpp"
#include "actors/inventory/inventory_protocol.hpp"
#include "actors/orders/orders_protocol.hpp"
#include "actors/payments/payments_protocol.hpp"
#include "actors/users/users_protocol.hpp"

namespace troupe::shop {

std::vector<capability> capabilities() {
  return {
      users::users_capability(),       inventory::inventory_capability(),
      payments::payments_capability(), orders::orders_capability(),
      gateway::gateway_capability(),
  };
}

}  // namespace troupe::shop
