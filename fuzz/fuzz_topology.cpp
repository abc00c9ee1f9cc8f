// A topology file, as an operator might get it wrong: parsed and validated against the
// shop's capabilities and their settings (the gateway's auth, rate limits, TLS, CORS, the
// orders' saga settings, ...). Every input is a topology or a topology_error naming where
// it is wrong; no other exception, no crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/node/topology.hpp"
#include "shop_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  try {
    auto topo = troupe::parse_topology(text, "fuzz.json", troupe::fuzz::shop_capabilities());
    (void)troupe::describe_plan(topo);
  } catch (const troupe::topology_error& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
