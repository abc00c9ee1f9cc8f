// The gateway's plain functions: request -> message, reply -> response. No actors here,
// so they are tested directly.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <caf/fwd.hpp>

#include "actors/users/users_protocol.hpp"
#include "runtime/http.hpp"

namespace troupe::gateway {

enum class route_kind { create_user, get_user, not_found, method_not_allowed };

struct route_match {
  route_kind kind = route_kind::not_found;
  std::string route;  // template for metrics: "/api/users/{id}"
  std::string id;     // the {id} segment
  std::string allow;  // for 405: the methods the route takes
};

route_match match_route(std::string_view method, std::string_view path);

// A create_user command from a JSON body (without context), or the 400/415 to send back.
std::variant<users::create_user, http_response> parse_create_user(const http_request& req,
                                                                  const std::string& route);

// {"id":...,"name":...,"email":...,"created_at":"2026-11-26T15:00:00.000Z"}
http_response user_response(int status, const users::user& u, std::string route);

// The JSON error for any error a capability call can end with.
http_response error_response(const caf::error& err, std::string route);

}  // namespace troupe::gateway
