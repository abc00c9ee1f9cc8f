#include "actors/users/users_routes.hpp"

#include "runtime/core/error.hpp"
#include "runtime/core/json.hpp"
#include "runtime/core/time.hpp"
#include "runtime/http/route.hpp"

namespace troupe::users {

namespace {

using json = nlohmann::json;

http_response with_user(int status, const user& u) {
  http_response res;
  res.status = status;
  res.body = user_body(u);
  return res;
}

http_response created(user& u) {
  auto res = with_user(201, u);
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

std::string user_body(const user& u) {
  // Keys in nlohmann's (sorted) order, so both renderings are the same text.
  std::string out;
  out.reserve(64 + u.id.size() + u.name.size() + u.email.size());
  out += "{\"created_at\":";
  append_json_string(out, format_utc_ms(u.created_at_ms));
  out += ",\"email\":";
  append_json_string(out, u.email);
  out += ",\"id\":";
  append_json_string(out, u.id);
  out += ",\"name\":";
  append_json_string(out, u.name);
  out += '}';
  return out;
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
          [](user& u) { return with_user(200, u); }),
  };
}

}  // namespace troupe::users
