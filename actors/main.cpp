// The troupe binary: the list of capabilities it can host. Placement is the topology's job.
#include "actors/shop/shop.hpp"
#include "runtime/node/node.hpp"

extern const char* const troupe_default_topology;  // deploy/dev.json, embedded at build time

int main(int argc, char** argv) {
  return troupe::troupe_main(argc, argv, troupe::shop::capabilities(), troupe_default_topology);
}
