// A one-message protocol for runtime tests: a callee answers (or holds) `value`. It carries a
// call context like every cross-capability message, so the caller can fill it.
#pragma once

#include <caf/meta/type_name.hpp>

#include "runtime/core/call_context.hpp"

namespace troupe::test {

struct ping {
  call_context ctx;
  int value = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ping& x) {
  return f(caf::meta::type_name("test.ping"), x.ctx, x.value);
}

}  // namespace troupe::test
