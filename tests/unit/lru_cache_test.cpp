#include <catch2/catch.hpp>

#include <string>

#include "runtime/lru_cache.hpp"

using troupe::lru_cache;

TEST_CASE("the cache evicts the least recently used entry beyond its capacity") {
  lru_cache<std::string, int> cache{2};
  cache.put("a", 1);
  cache.put("b", 2);
  REQUIRE(cache.find("a"));  // a is now more recent than b
  cache.put("c", 3);
  CHECK(cache.size() == 2);
  CHECK(cache.find("b") == nullptr);
  CHECK(*cache.find("a") == 1);
  CHECK(*cache.find("c") == 3);
  CHECK(cache.hits() == 3);
  CHECK(cache.misses() == 1);
}

TEST_CASE("put replaces a value and refreshes its recency; erase removes it") {
  lru_cache<std::string, int> cache{2};
  cache.put("a", 1);
  cache.put("b", 2);
  cache.put("a", 10);
  cache.put("c", 3);  // evicts b, not the refreshed a
  CHECK(*cache.find("a") == 10);
  CHECK(cache.find("b") == nullptr);
  cache.erase("a");
  CHECK(cache.find("a") == nullptr);
  CHECK(cache.size() == 1);
}

TEST_CASE("a cache of capacity zero stores nothing") {
  lru_cache<std::string, int> cache{0};
  cache.put("a", 1);
  CHECK(cache.size() == 0);
  CHECK(cache.find("a") == nullptr);
}
