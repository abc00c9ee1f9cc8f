#include <catch2/catch.hpp>

#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

#include "actors/gateway/routes.hpp"
#include "runtime/error.hpp"

using namespace troupe;
using namespace troupe::gateway;

namespace {

http_request post(std::string body, std::string type = "application/json") {
  http_request req;
  req.method = "POST";
  req.target = "/api/users";
  req.body = std::move(body);
  if (!type.empty()) req.headers.emplace_back("content-type", type);
  return req;
}

nlohmann::json error_of(const http_response& res) {
  return nlohmann::json::parse(res.body)["error"];
}

}  // namespace

TEST_CASE("routes match method and path, with a template for metrics") {
  CHECK(match_route("POST", "/api/users").kind == route_kind::create_user);
  auto get = match_route("GET", "/api/users/alice");
  CHECK(get.kind == route_kind::get_user);
  CHECK(get.id == "alice");
  CHECK(get.route == "/api/users/{id}");
  auto wrong = match_route("PUT", "/api/users");
  CHECK(wrong.kind == route_kind::method_not_allowed);
  CHECK(wrong.allow == "POST");
  CHECK(match_route("DELETE", "/api/users/a").allow == "GET");
  CHECK(match_route("GET", "/api/users/").kind == route_kind::not_found);
  CHECK(match_route("GET", "/api/users/a/b").kind == route_kind::not_found);
  CHECK(match_route("GET", "/api/usersx").kind == route_kind::not_found);
  CHECK(match_route("GET", "/").kind == route_kind::not_found);
}

TEST_CASE("a create body becomes a command") {
  auto parsed = parse_create_user(post(R"({"id":"a","name":"A","email":"a@b.co"})"), "r");
  auto cmd = std::get_if<users::create_user>(&parsed);
  REQUIRE(cmd);
  CHECK(cmd->id == "a");
  CHECK(cmd->name == "A");
  CHECK(cmd->email == "a@b.co");
  CHECK(std::holds_alternative<users::create_user>(
      parse_create_user(post(R"({"name":"A","email":"e"})", ""), "r")));
}

TEST_CASE("bad create bodies are refused with a status and the field") {
  auto refusal = [](http_request req) {
    return std::get<http_response>(parse_create_user(req, "r"));
  };
  auto not_json = refusal(post("{"));
  CHECK(not_json.status == 400);
  CHECK(error_of(not_json)["code"] == "invalid_json");
  CHECK(refusal(post("[1]")).status == 400);
  auto unknown = refusal(post(R"({"name":"A","email":"a@b.co","admin":true})"));
  CHECK(unknown.status == 400);
  CHECK(error_of(unknown)["field"] == "admin");
  auto wrong_type = refusal(post(R"({"name":5,"email":"a@b.co"})"));
  CHECK(error_of(wrong_type)["field"] == "name");
  auto missing = refusal(post(R"({"name":"A"})"));
  CHECK(error_of(missing)["field"] == "email");
  auto form = refusal(post("name=A", "application/x-www-form-urlencoded"));
  CHECK(form.status == 415);
}

TEST_CASE("errors map to HTTP statuses through one table") {
  CHECK(error_response(make_error(errc::not_found, "x"), "r").status == 404);
  CHECK(error_response(make_error(errc::already_exists, "x"), "r").status == 409);
  CHECK(error_response(make_error(errc::unavailable, "x"), "r").status == 503);
  CHECK(error_response(make_error(errc::deadline_exceeded, "x"), "r").status == 504);
  auto bad = error_response(make_error(errc::invalid_argument, "name is bad", "name"), "r");
  CHECK(bad.status == 400);
  CHECK(error_of(bad)["field"] == "name");
  CHECK(error_of(bad)["message"] == "name is bad");
  CHECK(error_response(caf::make_error(caf::sec::request_timeout), "r").status == 504);
  CHECK(error_response(caf::make_error(caf::sec::request_receiver_down), "r").status == 503);
  CHECK(error_response(caf::make_error(caf::sec::unexpected_message), "r").status == 500);
}

TEST_CASE("a user renders as JSON with an ISO-8601 creation time and a Location on 201") {
  auto res = user_response(201, {"a", "A", "a@b.co", 1764169200123}, "/api/users");
  auto body = nlohmann::json::parse(res.body);
  CHECK(body["id"] == "a");
  CHECK(body["created_at"] == "2025-11-26T15:00:00.123Z");
  REQUIRE(res.headers.size() == 1);
  CHECK(res.headers[0].second == "/api/users/a");
}
