// troupe's error codes, carried as CAF errors (category "troupe") so they cross nodes, and
// the one table that gives each its HTTP status. Every error a client can see, including
// those the HTTP layer produces before any actor sees the request, comes from this table or
// from the codes capabilities define for their business answers (error_code below).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "runtime/core/call_context.hpp"
#include "runtime/core/permissions.hpp"

namespace troupe {

// Codes are part of the wire protocol between nodes: append, never renumber.
enum class errc : std::uint8_t {
  invalid_argument = 1,    // 400 a field is wrong; the error names it
  not_found,               // 404 the addressed entity or route does not exist
  already_exists,          // 409 a create would overwrite an existing entity
  unavailable,             // 503 not sent or not processed: safe to retry (see retry_after)
  deadline_exceeded,       // 504 the deadline passed before the work started: nothing was done
  internal,                // 500 a bug or a broken store; the detail goes to the log only
  payload_too_large,       // 413
  method_not_allowed,      // 405
  bad_request,             // 400 malformed HTTP
  outcome_unknown,         // 504 sent, but no answer: the effect may have happened
  invalid_json,            // 400 the body is not JSON, or nested too deeply
  unsupported_media_type,  // 415
  headers_too_large,       // 431
  not_implemented,         // 501 an HTTP method troupe does not serve
  conflict,                // 409 the command does not fit the entity's state
  // 16-19 were business codes before capabilities defined their own: never reuse them.
  compensated = 20,  // 409 a saga step arrived after its compensation: nothing done
  uri_too_long,      // 414 the request line or its target is over the limit
  unauthenticated,   // 401 no valid bearer token (the answer says so, never why)
  forbidden,         // 403 authenticated, but without the scope the route needs
  rate_limited,      // 429 over a rate limit: Retry-After says when to come back
  defined,           // a capability's own code (error_code): its name travels with it
};

// Whether asking again may help: `never` for answers about the business or the request
// (the same call gets the same answer), `later` when nothing was done and the same call may
// succeed later (clients get a Retry-After).
enum class retry_class : std::uint8_t { never, later };

// What a saga does when a step ends with the error: `compensate` takes it as the step's
// answer (the step did nothing; the saga undoes the steps before it and ends with this
// error), `retry` as a failure of the call (the step is sent again within its attempts).
enum class saga_reaction : std::uint8_t { compensate, retry };

// A business answer a capability defines for itself, declared once in its protocol header
// and listed in its descriptor (capability::errors), e.g. inventory's
//   inline constexpr troupe::error_code out_of_stock{"out_of_stock", 409};
// An error made from it carries its name, status and classes, so every node answers for it
// the same way without knowing the capability.
struct error_code {
  const char* name;  // the "code" clients see: lower_snake_case, unique in the binary
  int status;        // HTTP status, 400-599
  retry_class retry = retry_class::never;
  saga_reaction in_saga = saga_reaction::compensate;
  // The errc number the code had while the runtime defined it (16-19), so that answers
  // stored under it (a participant's ledger) still read as this code; 0: none.
  std::uint8_t former_number = 0;
};

inline constexpr caf::atom_value error_category = caf::atom("troupe");

// An error with a message for people, the offending field (invalid_argument), and for
// `unavailable` how long a client should wait before retrying.
caf::error make_error(errc code, std::string message, std::string field = {},
                      std::chrono::seconds retry_after = std::chrono::seconds{0});
// A capability's own code. A code that says retry later gets a Retry-After of 1 s. A code
// that is not well formed (see register_error_codes) makes an internal error naming it.
caf::error make_error(const error_code& code, std::string message, std::string field = {});

// Registers the codes a capability defines (every node does it for every capability the
// binary lists, see describe_code; describe() adds those it meets from peers). Registering
// the same definition again is a no-op; a name that is not lower_snake_case, a status
// outside 400-599, a runtime code's name, a former number outside 16-19 or another
// definition under the same name or number throws std::invalid_argument.
void register_error_codes(const std::vector<error_code>& codes);

// What an error means, for whoever has to answer a client.
struct error_info {
  errc code = errc::internal;  // errc::defined for a capability's own code
  int status = 500;
  std::string name = "internal";  // "not_found", or a capability's own code
  std::string message;            // for internal errors the detail, which is for the log only
  std::string field;              // may be empty
  std::chrono::seconds retry_after{0};
  retry_class retry = retry_class::never;
  saga_reaction in_saga = saga_reaction::retry;
  bool internal() const { return code == errc::internal; }
  // An answer about the business or the request, not a failure of the call: a saga
  // compensates on it and never retries it, and a participant records it as the step's
  // answer.
  bool rejection() const { return in_saga == saga_reaction::compensate; }
};

// Any error a call can end with: troupe's own and CAF's (a bounced request is unavailable,
// a request timeout is outcome_unknown, anything else is internal).
error_info describe(const caf::error& err);

int http_status(errc code);
const char* code_name(errc code);
// What the code named `name` means ("not_found", or a registered capability's
// "out_of_stock"), with `message`; internal for a name nobody defined.
error_info describe_code(std::string_view name, std::string message);

// The answer to work whose deadline passed before `capability` got to it.
caf::error deadline_passed(const std::string& capability);

// Whether `capability` should refuse work before starting it, and with what: its deadline
// passed (deadline_exceeded), or it waited in queues longer than `max_queue` (0: no bound),
// which means the capability is overloaded: the work is shed with 503 `unavailable` and a
// Retry-After rather than served late, so queues stay short and what is accepted stays fast.
caf::error refuse_late(const call_context& ctx, call_context::clock::time_point now,
                       const std::string& capability, std::chrono::milliseconds max_queue);

// A capability's queue bound (topology calls.max_queue_ms) with whoever counts what it
// refuses (the node's requests_shed_total). Default: no bound, counts nothing.
struct queue_bound {
  enum class reason { queue_time, deadline };
  std::string capability;
  std::chrono::milliseconds max_queue{0};  // 0: no bound
  std::function<void(reason)> on_refused;  // empty: not counted
  // Who may call what (the topology's "permissions"); null: every capability everything.
  std::shared_ptr<const call_permissions> permissions;
  // Told how many messages wait in the capability's mailbox each time a handler asks
  // refuse() with its actor (capability_mailbox_depth); empty: not told.
  std::function<void(std::size_t)> on_mailbox;

  // refuse_late above, counted.
  caf::error refuse_late(const call_context& ctx, call_context::clock::time_point now) const;
  // What every handler of a capability asks first: whether the caller may call `operation`
  // at all, then refuse_late.
  caf::error refuse(const call_context& ctx, call_context::clock::time_point now,
                    std::string_view operation) const;
  // The same from a handler of `self` (its clock), telling on_mailbox its mailbox's length:
  // only the actor itself may read it.
  caf::error refuse(caf::scheduled_actor* self, const call_context& ctx,
                    std::string_view operation) const;
  // The permission alone, for work that runs past its deadline (compensations).
  caf::error forbid(const call_context& ctx, std::string_view operation) const;
  // Whether work that waited since `since` is past the bound (and, if so, counted).
  bool shed(call_context::clock::time_point since, call_context::clock::time_point now) const;
};

// For set_exception_handler: an exception escaping a handler becomes the actor's exit
// reason, naming the cause (which the supervisor logs).
caf::error exit_reason_of(caf::scheduled_actor*, std::exception_ptr& eptr);

// Renders errors of category "troupe" for caf::to_string.
std::string render_error(std::uint8_t code, caf::atom_value, const caf::message& context);

}  // namespace troupe
