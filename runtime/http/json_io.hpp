// JSON in and out of HTTP: parsing request bodies within limits, and answers, errors
// included, rendered from the one error table (core/error.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include <caf/error.hpp>
#include <nlohmann/json_fwd.hpp>

#include "runtime/core/error.hpp"
#include "runtime/http/message.hpp"

namespace troupe {

// Deeper nesting is refused before parsing (400 invalid_json).
inline constexpr std::size_t max_json_depth = 32;

// {"error":{"code":...,"message":...[,"field":...],"trace_id":...}} with the status of
// `code`, and Retry-After when `retry_after` is set.
http_response error_response(errc code, std::string_view message, std::string_view request_id,
                             std::string_view field = {},
                             std::chrono::seconds retry_after = std::chrono::seconds{0});

// The same for an error described (core/error.hpp describe, describe_code), a capability's
// own codes included.
http_response error_response(const error_info& info, std::string_view request_id);

// The answer for any error a call ended with. An internal error's detail is logged under
// the request id and never sent: the client gets a generic message and the id.
http_response error_response(const caf::error& err, std::string_view request_id);

// A JSON answer.
http_response json_response(int status, const nlohmann::json& body);

// The request body as JSON, or invalid_json (not JSON, or nested deeper than max_json_depth).
caf::error parse_json_body(const http_request& req, nlohmann::json& out);

}  // namespace troupe
