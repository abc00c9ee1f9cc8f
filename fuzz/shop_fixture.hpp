// What the fuzz targets share: the shop's capabilities as the binary knows them.
#pragma once

#include <vector>

#include "actors/shop/shop.hpp"

namespace troupe::fuzz {

inline const std::vector<capability>& shop_capabilities() {
  static const std::vector<capability> known = shop::capabilities();
  return known;
}

}  // namespace troupe::fuzz
