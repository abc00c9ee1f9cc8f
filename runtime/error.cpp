#include "runtime/error.hpp"

#include <caf/message.hpp>
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
};

const table_row* find_row(std::uint8_t code) {
  for (auto& row : table)
    if (static_cast<std::uint8_t>(row.code) == code) return &row;
  return nullptr;
}

}  // namespace

caf::error make_error(errc code, std::string message, std::string field) {
  return caf::error{static_cast<std::uint8_t>(code), error_category,
                    caf::make_message(std::move(message), std::move(field))};
}

const char* code_name(errc code) {
  auto row = find_row(static_cast<std::uint8_t>(code));
  return row ? row->name : "internal";
}

error_view describe(const caf::error& err) {
  if (err.category() == error_category) {
    auto row = find_row(err.code());
    error_view view{row ? row->status : 500, row ? row->name : "internal", "", ""};
    auto& ctx = err.context();
    if (ctx.match_elements<std::string, std::string>()) {
      view.message = ctx.get_as<std::string>(0);
      view.field = ctx.get_as<std::string>(1);
    }
    if (view.message.empty()) view.message = view.code;
    return view;
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return {504, "deadline_exceeded", "the capability did not answer before the deadline", ""};
      case caf::sec::request_receiver_down:
      case caf::sec::no_context:
      case caf::sec::cannot_connect_to_node:
        return {503, "unavailable", "the capability is not reachable", ""};
      default:
        break;
    }
  }
  return {500, "internal", "internal error: " + caf::to_string(err), ""};
}

std::string render_error(std::uint8_t code, caf::atom_value, const caf::message& context) {
  auto row = find_row(code);
  std::string out = row ? row->name : "unknown";
  if (context.match_elements<std::string, std::string>()) {
    out += ": ";
    out += context.get_as<std::string>(0);
    if (!context.get_as<std::string>(1).empty())
      out += " (field " + context.get_as<std::string>(1) + ")";
  }
  return out;
}

}  // namespace troupe
