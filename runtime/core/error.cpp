#include "runtime/core/error.hpp"
#include "runtime/core/mailbox_depth.hpp"

#include <map>
#include <mutex>
#include <stdexcept>

#include <caf/message.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>

namespace troupe {

namespace {

constexpr auto never = retry_class::never;
constexpr auto later = retry_class::later;
constexpr auto rejected = saga_reaction::compensate;
constexpr auto failed = saga_reaction::retry;

struct table_row {
  errc code;
  const char* name;
  int status;
  retry_class retry;
  saga_reaction in_saga;
};

// The one table from the runtime's error codes to HTTP statuses, and how clients and sagas
// treat each. Answers about the request or the entity (4xx but overload) are rejections.
constexpr table_row table[] = {
    {errc::invalid_argument, "invalid_argument", 400, never, rejected},
    {errc::not_found, "not_found", 404, never, rejected},
    {errc::already_exists, "already_exists", 409, never, rejected},
    {errc::unavailable, "unavailable", 503, later, failed},
    {errc::deadline_exceeded, "deadline_exceeded", 504, never, failed},
    {errc::internal, "internal", 500, never, failed},
    {errc::payload_too_large, "payload_too_large", 413, never, failed},
    {errc::method_not_allowed, "method_not_allowed", 405, never, failed},
    {errc::bad_request, "bad_request", 400, never, failed},
    {errc::outcome_unknown, "outcome_unknown", 504, never, failed},
    {errc::invalid_json, "invalid_json", 400, never, failed},
    {errc::unsupported_media_type, "unsupported_media_type", 415, never, failed},
    {errc::headers_too_large, "headers_too_large", 431, never, failed},
    {errc::not_implemented, "not_implemented", 501, never, failed},
    {errc::conflict, "conflict", 409, never, rejected},
    {errc::compensated, "compensated", 409, never, rejected},
    {errc::uri_too_long, "uri_too_long", 414, never, failed},
    {errc::unauthenticated, "unauthenticated", 401, never, rejected},
    {errc::forbidden, "forbidden", 403, never, rejected},
    {errc::rate_limited, "rate_limited", 429, later, failed},
};

// The codes capabilities defined, by name (each entry's error_code::name points into its own
// key) and by former number; written while nodes configure and when peers' codes arrive.
struct defined_codes {
  std::mutex mutex;
  std::map<std::string, error_code, std::less<>> by_name;
  std::map<std::uint8_t, error_code> by_former_number;
};

// Peers' codes are registered as they arrive: a bound on what a peer can make us keep.
constexpr std::size_t max_defined_codes = 1024;

defined_codes& defined() {
  static defined_codes codes;
  return codes;
}

bool valid_code_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() < 'a' || name.front() > 'z') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// A capability's code travels as (message, field, retry_after_s, name, status, retry,
// in_saga); the runtime's as (message, field, retry_after_s).
bool is_defined_context(const caf::message& ctx) {
  return ctx.match_elements<std::string, std::string, std::int64_t, std::string, std::int32_t,
                            std::uint8_t, std::uint8_t>();
}

bool is_runtime_name(std::string_view name) {
  for (auto& row : table)
    if (name == row.name) return true;
  return false;
}

// Why `code` is not a well-formed definition; empty when it is.
std::string problem_of(const error_code& code) {
  std::string name = code.name ? code.name : "";
  if (!valid_code_name(name))
    return "error code '" + name +
           "': a name is 1-64 characters of a-z, 0-9 and _, starting with a letter";
  if (code.status < 400 || code.status > 599)
    return "error code '" + name + "': status " + std::to_string(code.status) +
           " is not within 400-599";
  if (is_runtime_name(name)) return "error code '" + name + "' is one of the runtime's own";
  if (code.former_number != 0 && (code.former_number < 16 || code.former_number > 19))
    return "error code '" + name + "': former number " + std::to_string(code.former_number) +
           " is not one of 16-19";
  return {};
}

bool same_definition(const error_code& a, const error_code& b) {
  return a.status == b.status && a.retry == b.retry && a.in_saga == b.in_saga;
}

// Adds `code` (well formed) unless known; false when the name or number is taken by another
// definition. Holds the registry's lock.
bool add_code(defined_codes& reg, const error_code& code) {
  auto it = reg.by_name.find(code.name);
  if (it != reg.by_name.end())
    return same_definition(it->second, code) && code.former_number == it->second.former_number;
  if (code.former_number != 0 && reg.by_former_number.count(code.former_number)) return false;
  if (reg.by_name.size() >= max_defined_codes) return true;  // known as it travels, not by name
  it = reg.by_name.emplace(code.name, code).first;
  it->second.name = it->first.c_str();
  if (code.former_number != 0) reg.by_former_number.emplace(code.former_number, it->second);
  return true;
}

const table_row* find_row(std::uint8_t code) {
  for (auto& row : table)
    if (static_cast<std::uint8_t>(row.code) == code) return &row;
  return nullptr;
}

const table_row& row_of(errc code) {
  auto row = find_row(static_cast<std::uint8_t>(code));
  return row ? *row : table[5];  // internal
}

error_info info_of(errc code, std::string message, std::chrono::seconds retry_after = {}) {
  auto& row = row_of(code);
  return {row.code, row.status,  row.name,  std::move(message),
          {},       retry_after, row.retry, row.in_saga};
}

error_info info_of(const error_code& code, std::string message) {
  auto retry_after = std::chrono::seconds{code.retry == retry_class::later ? 1 : 0};
  return {errc::defined, code.status, code.name,   std::move(message), {},
          retry_after,   code.retry,  code.in_saga};
}

}  // namespace

caf::error make_error(errc code, std::string message, std::string field,
                      std::chrono::seconds retry_after) {
  return caf::error{static_cast<std::uint8_t>(code), error_category,
                    caf::make_message(std::move(message), std::move(field),
                                      static_cast<std::int64_t>(retry_after.count()))};
}

caf::error make_error(const error_code& code, std::string message, std::string field) {
  if (auto problem = problem_of(code); !problem.empty())
    return make_error(errc::internal, problem + " (answering: " + message + ")");
  std::int64_t retry_after = code.retry == retry_class::later ? 1 : 0;
  return caf::error{
      static_cast<std::uint8_t>(errc::defined), error_category,
      caf::make_message(std::move(message), std::move(field), retry_after, std::string{code.name},
                        std::int32_t{code.status}, static_cast<std::uint8_t>(code.retry),
                        static_cast<std::uint8_t>(code.in_saga))};
}

void register_error_codes(const std::vector<error_code>& codes) {
  auto& reg = defined();
  std::lock_guard<std::mutex> guard{reg.mutex};
  for (auto& code : codes) {
    if (auto problem = problem_of(code); !problem.empty()) throw std::invalid_argument(problem);
    if (!add_code(reg, code))
      throw std::invalid_argument("error code '" + std::string(code.name) +
                                  "' is defined twice, differently");
  }
}

caf::error refuse_late(const call_context& ctx, call_context::clock::time_point now,
                       const std::string& capability, std::chrono::milliseconds max_queue) {
  if (past_deadline(ctx, now)) return deadline_passed(capability);
  if (max_queue.count() > 0 && ctx.queued_since != call_context::clock::time_point{} &&
      now - ctx.queued_since > max_queue) {
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - ctx.queued_since);
    return make_error(errc::unavailable,
                      "'" + capability + "' is overloaded: the request waited " +
                          std::to_string(waited.count()) + " ms in its queue (bound " +
                          std::to_string(max_queue.count()) + " ms); retry later",
                      {}, std::chrono::seconds{1});
  }
  return {};
}

caf::error queue_bound::refuse_late(const call_context& ctx,
                                    call_context::clock::time_point now) const {
  auto refused = troupe::refuse_late(ctx, now, capability, max_queue);
  if (refused && on_refused)
    on_refused(refused.code() == static_cast<std::uint8_t>(errc::deadline_exceeded)
                   ? reason::deadline
                   : reason::queue_time);
  return refused;
}

caf::error queue_bound::refuse(const call_context& ctx, call_context::clock::time_point now,
                               std::string_view operation) const {
  if (auto forbidden = forbid(ctx, operation)) return forbidden;
  return refuse_late(ctx, now);
}

caf::error queue_bound::refuse(caf::scheduled_actor* self, const call_context& ctx,
                               std::string_view operation) const {
  if (on_mailbox) on_mailbox(mailbox_depth(self));
  return refuse(ctx, self->clock().now(), operation);
}

caf::error queue_bound::forbid(const call_context& ctx, std::string_view operation) const {
  return permissions ? permissions->check(ctx, operation) : caf::error{};
}

bool queue_bound::shed(call_context::clock::time_point since,
                       call_context::clock::time_point now) const {
  if (max_queue.count() <= 0 || now - since <= max_queue) return false;
  if (on_refused) on_refused(reason::queue_time);
  return true;
}

caf::error deadline_passed(const std::string& capability) {
  return make_error(errc::deadline_exceeded,
                    "the deadline passed before the " + capability +
                        " capability got to the request; nothing was done");
}

caf::error exit_reason_of(caf::scheduled_actor*, std::exception_ptr& eptr) {
  try {
    std::rethrow_exception(eptr);
  } catch (const std::exception& e) {
    return make_error(errc::internal, e.what());
  } catch (...) {
    return make_error(errc::internal, "unknown exception");
  }
}

error_info describe_code(std::string_view name, std::string message) {
  for (auto& row : table)
    if (name == row.name) return info_of(row.code, std::move(message));
  auto& reg = defined();
  std::unique_lock<std::mutex> guard{reg.mutex};
  auto it = reg.by_name.find(name);
  if (it != reg.by_name.end()) {
    auto code = it->second;
    guard.unlock();
    return info_of(code, std::move(message));
  }
  guard.unlock();
  return info_of(errc::internal, "unknown error code '" + std::string(name) + "': " + message);
}

int http_status(errc code) {
  return row_of(code).status;
}

const char* code_name(errc code) {
  return row_of(code).name;
}

error_info describe(const caf::error& err) {
  using namespace std::chrono_literals;
  if (err.category() == error_category) {
    auto& ctx = err.context();
    if (err.code() == static_cast<std::uint8_t>(errc::defined) && is_defined_context(ctx)) {
      auto status = ctx.get_as<std::int32_t>(4);
      auto retry = ctx.get_as<std::uint8_t>(5);
      auto in_saga = ctx.get_as<std::uint8_t>(6);
      auto name = ctx.get_as<std::string>(3);
      // From a peer, so checked: a malformed one is a bug somewhere, not an answer.
      if (status < 400 || status > 599 || retry > 1 || in_saga > 1 || !valid_code_name(name) ||
          is_runtime_name(name))
        return info_of(errc::internal, "malformed error " + caf::to_string(err));
      error_info info{errc::defined,
                      status,
                      std::move(name),
                      ctx.get_as<std::string>(0),
                      ctx.get_as<std::string>(1),
                      std::chrono::seconds{ctx.get_as<std::int64_t>(2)},
                      static_cast<retry_class>(retry),
                      static_cast<saga_reaction>(in_saga)};
      if (info.message.empty()) info.message = info.name;
      // Known by name from now on (a saga's stored result names it), on this node too.
      auto& reg = defined();
      std::lock_guard<std::mutex> guard{reg.mutex};
      add_code(reg, {info.name.c_str(), info.status, info.retry, info.in_saga});
      return info;
    }
    auto row = find_row(err.code());
    if (!row && ctx.match_elements<std::string, std::string, std::int64_t>()) {
      // An answer stored before its code moved to the capability that defines it.
      auto& reg = defined();
      std::unique_lock<std::mutex> guard{reg.mutex};
      auto it = reg.by_former_number.find(err.code());
      if (it != reg.by_former_number.end()) {
        auto code = it->second;
        guard.unlock();
        auto info = info_of(code, ctx.get_as<std::string>(0));
        info.field = ctx.get_as<std::string>(1);
        if (info.message.empty()) info.message = info.name;
        return info;
      }
    }
    if (!row || row->code == errc::defined)
      return info_of(errc::internal, "unknown troupe error code " + caf::to_string(err));
    error_info info = info_of(row->code, {});
    if (ctx.match_elements<std::string, std::string, std::int64_t>()) {
      info.message = ctx.get_as<std::string>(0);
      info.field = ctx.get_as<std::string>(1);
      info.retry_after = std::chrono::seconds{ctx.get_as<std::int64_t>(2)};
    }
    if (info.message.empty()) info.message = info.name;
    return info;
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return info_of(errc::outcome_unknown,
                       "no answer before the deadline; the call was sent, so its effect may "
                       "have happened");
      case caf::sec::request_receiver_down:
        return info_of(errc::unavailable, "the capability stopped before processing the call", 1s);
      case caf::sec::no_context:
      case caf::sec::cannot_connect_to_node:
        return info_of(errc::unavailable, "the capability is not reachable", 1s);
      default:
        break;
    }
  }
  return info_of(errc::internal, caf::to_string(err));
}

std::string render_error(std::uint8_t code, caf::atom_value, const caf::message& context) {
  auto row = find_row(code);
  std::string out = row ? row->name : "unknown";
  if (code == static_cast<std::uint8_t>(errc::defined) && is_defined_context(context))
    out = context.get_as<std::string>(3);
  if (context.match_elements<std::string, std::string, std::int64_t>() ||
      is_defined_context(context)) {
    out += ": ";
    out += context.get_as<std::string>(0);
    if (!context.get_as<std::string>(1).empty())
      out += " (field " + context.get_as<std::string>(1) + ")";
  }
  return out;
}

}  // namespace troupe
