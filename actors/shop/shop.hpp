// The shop's capabilities as a binary lists them: users, inventory, payments, orders and the
// gateway. The one list the troupe binary, the tests and the fuzzers take, and what a user's
// binary adds its own capabilities to.
#pragma once

#include <vector>

#include "runtime/node/capability.hpp"

namespace troupe::shop {

std::vector<capability> capabilities();

}  // namespace troupe::shop
