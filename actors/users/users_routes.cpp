#include "actors/users/users_routes.hpp"

#include "runtime/core/error.hpp"
#include "runtime/core/time.hpp"
#include "runtime/http/route.hpp"

namespace troupe::users {

namespace {

using json = nlohmann::json;

http_response created(user& u) {
  auto res = json_response(201, user_json(u));
  res.headers.emplace_back("Location", "/api/users/" + u.id);
  return res;
}

}  // namespace

caf::expected<create_user> create_user_from_json(const json& body) {
  if (!body.is_object())
    return make_error(errc::invalid_argument, "the body must be a JSON object");
  create_user cmd;
  for (auto& [key, value] : body.items()) {
    std::string* target = key == "id"      ? &cmd.id
                          : key == "name"  ? &cmd.name
                          : key == "email" ? &cmd.email
                                           : nullptr;
    if (!target)
      return make_error(errc::invalid_argument,
                        "unknown field '" + key + "' (allowed: id, name, email)", key);
    if (!value.is_string())
      return make_error(errc::invalid_argument, key + " must be a string", key);
    *target = value.get<std::string>();
  }
  for (auto field : {"name", "email"})
    if (!body.contains(field))
      return make_error(errc::invalid_argument, std::string(field) + " is required", field);
  return cmd;
}

json user_json(const user& u) {
  return {{"id", u.id},
          {"name", u.name},
          {"email", u.email},
          {"created_at", format_utc_ms(u.created_at_ms)}};
}

std::vector<route> users_routes() {
  return {
      make_route<user>(
          http_method::post, "/api/users", create_body_limit,
          [](const route_input& in) { return create_user_from_json(in.body); }, created),
      make_route<user>(
          http_method::get, "/api/users/{id}", no_body,
          [](const route_input& in) -> caf::expected<get_user> {
            return get_user{{}, in.param(0)};
          },
          [](user& u) { return json_response(200, user_json(u)); }),
  };
}

}  // namespace troupe::users
