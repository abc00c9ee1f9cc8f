// troupe's own error codes, carried as CAF errors (category "troupe") so they cross nodes,
// and the one table that maps them (and CAF's own errors) to HTTP statuses.
#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace troupe {

enum class errc : std::uint8_t {
  invalid_argument = 1,  // a field is wrong; context names it
  not_found,             // the addressed entity does not exist
  already_exists,        // a create would overwrite an existing entity
  unavailable,           // the capability cannot be reached now; retry later
  deadline_exceeded,     // the call context's deadline passed
  internal,              // a bug or a broken store; details are in the log
  payload_too_large,
  method_not_allowed,
  bad_request,  // malformed request (not JSON, missing header...)
};

inline constexpr caf::atom_value error_category = caf::atom("troupe");

// An error with a human message and, for invalid_argument, the offending field.
caf::error make_error(errc code, std::string message, std::string field = {});

// What an HTTP client sees for an error; CAF's own errors (timeouts, lost peers) included.
struct error_view {
  int status;
  std::string code;     // e.g. "not_found"
  std::string message;  // for people
  std::string field;    // may be empty
};

error_view describe(const caf::error& err);

// "invalid_argument" etc.
const char* code_name(errc code);

// Renders errors of category "troupe" for caf::to_string.
std::string render_error(std::uint8_t code, caf::atom_value, const caf::message& context);

}  // namespace troupe
