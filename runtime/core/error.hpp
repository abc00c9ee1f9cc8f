// troupe's error codes, carried as CAF errors (category "troupe") so they cross nodes, and
// the one table that gives each its HTTP status. Every error a client can see, including
// those the HTTP layer produces before any actor sees the request, comes from this table.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

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
  out_of_stock,            // 409 a reservation asked for more than is available
  payment_declined,        // 402 the card processor refused the charge
  unknown_customer,        // 404 an order names a customer that does not exist
  idempotency_key_reused,  // 422 an Idempotency-Key came back with a different request
  compensated,             // 409 a saga step arrived after its compensation: nothing done
  uri_too_long,            // 414 the request line or its target is over the limit
  unauthenticated,         // 401 no valid bearer token (the answer says so, never why)
  forbidden,               // 403 authenticated, but without the scope the route needs
  rate_limited,            // 429 over a rate limit: Retry-After says when to come back
};

// Rejections are answers about the business, not failures of the call: a saga compensates
// on them and never retries them.
bool is_rejection(errc code);

inline constexpr caf::atom_value error_category = caf::atom("troupe");

// An error with a message for people, the offending field (invalid_argument), and for
// `unavailable` how long a client should wait before retrying.
caf::error make_error(errc code, std::string message, std::string field = {},
                      std::chrono::seconds retry_after = std::chrono::seconds{0});

// What an error means, for whoever has to answer a client.
struct error_info {
  errc code = errc::internal;
  int status = 500;
  const char* name = "internal";  // "not_found"
  std::string message;            // for internal errors the detail, which is for the log only
  std::string field;              // may be empty
  std::chrono::seconds retry_after{0};
  bool internal() const { return code == errc::internal; }
};

// Any error a call can end with: troupe's own and CAF's (a bounced request is unavailable,
// a request timeout is outcome_unknown, anything else is internal).
error_info describe(const caf::error& err);

int http_status(errc code);
// The code named `name` ("out_of_stock"), or internal for a name not in the table.
errc code_from_name(std::string_view name);
const char* code_name(errc code);

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
