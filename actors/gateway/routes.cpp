#include "actors/gateway/routes.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

#include "runtime/error.hpp"

namespace troupe::gateway {

namespace {

using json = nlohmann::json;

constexpr std::string_view users_prefix = "/api/users";

std::string iso8601(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

route_match match_route(std::string_view method, std::string_view path) {
  if (path == users_prefix) {
    if (method == "POST") return {route_kind::create_user, "/api/users", "", ""};
    return {route_kind::method_not_allowed, "/api/users", "", "POST"};
  }
  if (path.size() > users_prefix.size() + 1 &&
      path.substr(0, users_prefix.size()) == users_prefix && path[users_prefix.size()] == '/') {
    auto id = path.substr(users_prefix.size() + 1);
    if (id.find('/') != std::string_view::npos) return {route_kind::not_found, "", "", ""};
    if (method == "GET") return {route_kind::get_user, "/api/users/{id}", std::string(id), ""};
    return {route_kind::method_not_allowed, "/api/users/{id}", "", "GET"};
  }
  return {};
}

std::variant<users::create_user, http_response> parse_create_user(const http_request& req,
                                                                  const std::string& route) {
  if (auto type = req.header("Content-Type"); type && type->rfind("application/json", 0) != 0)
    return json_error(415, "unsupported_media_type",
                      "Content-Type must be application/json, not '" + *type + "'", {}, route);
  json body;
  try {
    body = json::parse(req.body);
  } catch (const json::parse_error& e) {
    return json_error(400, "invalid_json", std::string("the body is not valid JSON: ") + e.what(),
                      {}, route);
  }
  if (!body.is_object())
    return json_error(400, "invalid_argument", "the body must be a JSON object", {}, route);
  users::create_user cmd;
  for (auto& [key, value] : body.items()) {
    std::string* target = key == "id"      ? &cmd.id
                          : key == "name"  ? &cmd.name
                          : key == "email" ? &cmd.email
                                           : nullptr;
    if (!target)
      return json_error(400, "invalid_argument",
                        "unknown field '" + key + "' (allowed: id, name, email)", key, route);
    if (!value.is_string())
      return json_error(400, "invalid_argument", key + " must be a string", key, route);
    *target = value.get<std::string>();
  }
  for (auto field : {"name", "email"})
    if (!body.contains(field))
      return json_error(400, "invalid_argument", std::string(field) + " is required", field, route);
  return cmd;
}

http_response user_response(int status, const users::user& u, std::string route) {
  http_response res;
  res.status = status;
  res.body = dump({{"id", u.id},
                   {"name", u.name},
                   {"email", u.email},
                   {"created_at", iso8601(u.created_at_ms)}});
  if (status == 201) res.headers.emplace_back("Location", "/api/users/" + u.id);
  res.route = std::move(route);
  return res;
}

http_response error_response(const caf::error& err, std::string route) {
  auto view = describe(err);
  return json_error(view.status, view.code, view.message, view.field, std::move(route));
}

}  // namespace troupe::gateway
