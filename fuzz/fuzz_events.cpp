// Events as they arrive from another node: a page of event envelopes in CAF's binary wire
// format (what a subscriber's pull_events gets back), then each payload decoded by the
// subscribers that read it: the orders read model (Order events) and orders' customer list
// (users' UserCreated). Decoding refuses what it cannot read with a clear error; nothing
// crashes, hits undefined behaviour or throws anything else.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <nlohmann/json.hpp>

#include "actors/orders/orders_events.hpp"
#include "runtime/events/event.hpp"

using namespace troupe;

namespace {

// With TROUPE_FUZZ_WRITE_SEEDS=DIR, writes pages the shop really sends there (the seed
// corpus in fuzz/corpus/events was made this way).
void write_seeds(const char* dir) {
  std::vector<std::vector<events::event_envelope>> pages = {
      {{1, "e-1", "UserCreated", "users", "u-1", 1, 1764560000000,
        "4bf92f3577b34da6a3ce929d0e0e4736", R"({"name":"Ann","email":"ann@example.com"})"}},
      {{7, "e-7", "OrderCreated", "orders", "o-1", 1, 1764560000000, "", R"({"customer":"u-1"})"},
       {8, "e-8", "StockReserved", "orders", "o-1", 2, 1764560000001, "",
        R"({"reservation":"r-1","lines":[{"sku":"A","quantity":2,"price":1500}],"total":3000,"currency":"EUR"})"},
       {9, "e-9", "OrderCancelled", "orders", "o-1", 3, 1764560000002, "",
        R"({"code":"out_of_stock","reason":"'A': 50 requested"})"}},
  };
  int n = 0;
  for (auto& list : pages) {
    events::events_page page{list, static_cast<std::int64_t>(list.size())};
    std::vector<char> buf;
    caf::binary_serializer sink{nullptr, buf};
    if (auto err = sink(page)) std::abort();
    auto path = std::string(dir) + "/page-" + std::to_string(++n);
    auto* f = std::fopen(path.c_str(), "wb");
    std::fwrite(buf.data(), 1, buf.size(), f);
    std::fclose(f);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (auto* dir = std::getenv("TROUPE_FUZZ_WRITE_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  events::events_page page;
  caf::binary_deserializer source{nullptr, reinterpret_cast<const char*>(data), size};
  if (auto err = source(page)) return 0;  // not a page: the peer's message is dropped
  for (auto& e : page.events) {
    (void)orders::customer_from(e);
    try {
      (void)orders::event_from(e.type, nlohmann::json::parse(e.payload, nullptr, false));
    } catch (const std::invalid_argument&) {
      // refused with a message naming the event type
    }
  }
  return 0;
}
