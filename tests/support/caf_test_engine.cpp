// CAF's test engine, defined once for the executable whose tests use its deterministic
// coordinator (caf/test/dsl.hpp), without its main: Catch2 runs the cases.
#define CAF_TEST_NO_MAIN
#include <caf/test/unit_test_impl.hpp>
