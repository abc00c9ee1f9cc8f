#include "runtime/core/error.hpp"
#include "runtime/core/mailbox_depth.hpp"

#include <caf/message.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>

namespace troupe {

namespace {

struct table_row {
  errc code;
  const char* name;
  int status;
};

// The one table from error codes to HTTP statuses.
constexpr table_row table[] = {
    {errc::invalid_argument, "invalid_argument", 400},
    {errc::not_found, "not_found", 404},
    {errc::already_exists, "already_exists", 409},
    {errc::unavailable, "unavailable", 503},
    {errc::deadline_exceeded, "deadline_exceeded", 504},
    {errc::internal, "internal", 500},
    {errc::payload_too_large, "payload_too_large", 413},
    {errc::method_not_allowed, "method_not_allowed", 405},
    {errc::bad_request, "bad_request", 400},
    {errc::outcome_unknown, "outcome_unknown", 504},
    {errc::invalid_json, "invalid_json", 400},
    {errc::unsupported_media_type, "unsupported_media_type", 415},
    {errc::headers_too_large, "headers_too_large", 431},
    {errc::not_implemented, "not_implemented", 501},
    {errc::conflict, "conflict", 409},
    {errc::out_of_stock, "out_of_stock", 409},
    {errc::payment_declined, "payment_declined", 402},
    {errc::unknown_customer, "unknown_customer", 404},
    {errc::idempotency_key_reused, "idempotency_key_reused", 422},
    {errc::compensated, "compensated", 409},
    {errc::uri_too_long, "uri_too_long", 414},
    {errc::unauthenticated, "unauthenticated", 401},
    {errc::forbidden, "forbidden", 403},
    {errc::rate_limited, "rate_limited", 429},
};

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
  return {row.code, row.status, row.name, std::move(message), {}, retry_after};
}

}  // namespace

caf::error make_error(errc code, std::string message, std::string field,
                      std::chrono::seconds retry_after) {
  return caf::error{static_cast<std::uint8_t>(code), error_category,
                    caf::make_message(std::move(message), std::move(field),
                                      static_cast<std::int64_t>(retry_after.count()))};
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

bool is_rejection(errc code) {
  switch (code) {
    case errc::invalid_argument:
    case errc::not_found:
    case errc::already_exists:
    case errc::conflict:
    case errc::out_of_stock:
    case errc::payment_declined:
    case errc::unknown_customer:
    case errc::idempotency_key_reused:
    case errc::compensated:
    case errc::unauthenticated:
    case errc::forbidden:
      return true;
    default:
      return false;
  }
}

errc code_from_name(std::string_view name) {
  for (auto& row : table)
    if (name == row.name) return row.code;
  return errc::internal;
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
    auto row = find_row(err.code());
    if (!row) return info_of(errc::internal, "unknown troupe error code " + caf::to_string(err));
    error_info info{row->code, row->status, row->name, {}, {}, {}};
    auto& ctx = err.context();
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
  if (context.match_elements<std::string, std::string, std::int64_t>()) {
    out += ": ";
    out += context.get_as<std::string>(0);
    if (!context.get_as<std::string>(1).empty())
      out += " (field " + context.get_as<std::string>(1) + ")";
  }
  return out;
}

}  // namespace troupe
