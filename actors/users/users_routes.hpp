// The users capability's HTTP routes, and the plain functions behind them: request ->
// message, reply -> response. No actors here, so they are tested directly.
//
//   POST /api/users       {"id"?, "name", "email"} -> 201 + Location, the user
//   GET  /api/users/{id}  -> 200, the user
#pragma once

#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json_fwd.hpp>

#include "actors/users/users_protocol.hpp"
#include "runtime/http/router.hpp"

namespace troupe::users {

// A create needs kilobytes: 200 characters of name, even \u-escaped, and an address.
inline constexpr std::size_t create_body_limit = 4096;

std::vector<route> users_routes();

// A create_user command (without context) from a JSON body: unknown fields and wrong types
// are invalid_argument naming the field.
caf::expected<create_user> create_user_from_json(const nlohmann::json& body);

// {"created_at":"2026-11-26T15:00:00.000Z","email":...,"id":...,"name":...}
nlohmann::json user_json(const user& u);
// The same text as dump_json(user_json(u)) (stored users are valid UTF-8: they came in as
// JSON), written straight into a string: this is every
// read's answer, and building a JSON tree for it cost more than the rest of the route.
std::string user_body(const user& u);

}  // namespace troupe::users
