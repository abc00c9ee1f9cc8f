// Failpoints: named places in the code where a test can make troupe fail on purpose, set by
// the environment of a real process (TROUPE_FAILPOINTS) or a node's "failpoints" in the
// topology, so fault tests need no test build.
//
//   TROUPE_FAILPOINTS="users.get=crash*1,users.create=error"
//
// Actions: `crash` (the handler throws, so the actor dies like on a bug), `error` (the code
// at the failpoint reports a failure), `hang` (blocks the thread for N ms: `hang:2000`,
// default 60000), `exit` (the process ends at once, like kill -9). `*N` fires N times per
// process, then the failpoint is inert; without it, it fires every time. `@N` (last) lets N
// passes go by first: `users.store.create=crash*1@50` crashes on the 51st create only. Unset: one
// relaxed atomic load per failpoint passed.
#pragma once

#include <string>
#include <string_view>

namespace troupe {

enum class failpoint_action { none, crash, error, hang, exit };

// Replaces the configured failpoints with `spec` (the TROUPE_FAILPOINTS syntax), or with
// `add` adds them (same names: `spec` wins). Throws std::invalid_argument naming the entry
// that is malformed.
void configure_failpoints(const std::string& spec, bool add = false);
// Throws like configure_failpoints when `spec` is malformed; changes nothing.
void check_failpoints(const std::string& spec);

// Reads TROUPE_FAILPOINTS (if set) into the configuration; throws like configure_failpoints.
void configure_failpoints_from_env();

// Passes the failpoint `name`: performs crash (throws std::runtime_error), hang and exit
// itself; returns true when the action is `error`, for the caller to fail the operation.
bool failpoint(std::string_view name);

}  // namespace troupe
