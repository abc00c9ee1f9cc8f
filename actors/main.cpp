// The troupe binary: the list of capabilities it can host. Placement is the topology's job.
#include "actors/gateway/gateway.hpp"
#include "actors/inventory/inventory_protocol.hpp"
#include "actors/orders/orders_protocol.hpp"
#include "actors/payments/payments_protocol.hpp"
#include "actors/users/users_protocol.hpp"
#include "runtime/node/node.hpp"

extern const char* const troupe_default_topology;  // deploy/dev.json, embedded at build time

int main(int argc, char** argv) {
  return troupe::troupe_main(argc, argv,
                             {
                                 troupe::users::users_capability(),
                                 troupe::inventory::inventory_capability(),
                                 troupe::payments::payments_capability(),
                                 troupe::orders::orders_capability(),
                                 troupe::gateway::gateway_capability(),
                             },
                             troupe_default_topology);
}
