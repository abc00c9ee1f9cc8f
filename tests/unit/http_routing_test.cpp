// The HTTP edge as plain functions: the router, admission from a request's head (everything
// decided before a body is read), the error table's JSON, and the users routes' mappings.
#include <catch2/catch.hpp>

#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

#include "actors/users/users_routes.hpp"
#include "runtime/core/json.hpp"
#include "runtime/http/admin.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/http/router.hpp"

using namespace troupe;
using json = nlohmann::json;

namespace {

route declared(http_method m, std::string path, std::size_t limit = 0) {
  route r;
  r.method = m;
  r.path = std::move(path);
  r.body_limit = limit;
  return r;
}

json error_of(const http_response& res) {
  return json::parse(res.body)["error"];
}

std::string header_of(const http_response& res, const std::string& name) {
  for (auto& [k, v] : res.headers)
    if (k == name) return v;
  return {};
}

// The API listener's admission, with the users routes, for a head.
admission admit(http_method method, std::string_view target,
                std::optional<std::uint64_t> content_length = std::nullopt,
                std::optional<std::string_view> content_type = std::nullopt, bool details = true) {
  static auto routes = std::make_shared<const router>(users::users_routes());
  auto service = make_api_service({}, details, routes, {});
  request_head head;
  head.method = method;
  head.target = target;
  head.content_length = content_length;
  head.has_body = content_length && *content_length > 0;
  head.content_type = content_type;
  head.request_id = "rid";
  return service.admit(head);
}

int refused_with(const admission& a) {
  return a.refusal ? a.refusal->status : 0;
}

}  // namespace

TEST_CASE("the router matches templates, decodes parameters, and tells 404 from 405") {
  router r{{declared(http_method::post, "/api/users", 10),
            declared(http_method::get, "/api/users/{id}"),
            declared(http_method::delete_, "/api/users/{id}"),
            declared(http_method::get, "/api/users/me")}};
  auto get = r.find(http_method::get, "/api/users/al%69ce");
  REQUIRE(get.kind == router::match::found);
  CHECK(get.index == 1);
  CHECK(get.params == std::vector<std::string>{"alice"});
  CHECK(get.label == "/api/users/{id}");
  // a literal segment beats a parameter, whatever the declaration order
  CHECK(r.find(http_method::get, "/api/users/me").index == 3);
  auto wrong = r.find(http_method::put, "/api/users/a");
  CHECK(wrong.kind == router::match::method_not_allowed);
  CHECK(wrong.allow == "GET, DELETE");
  CHECK(wrong.label == "/api/users/{id}");
  CHECK(r.find(http_method::get, "/api/users").allow == "POST");
  for (auto path : {"/api/users/", "/api/users/a/b", "/api/usersx", "/", "", "/api//x"})
    CHECK(r.find(http_method::get, path).kind == router::match::not_found);
  CHECK(r.find(http_method::get, "/api/users/%zz").kind == router::match::not_found);
  CHECK(r.find(http_method::get, "/api/users/%4").kind == router::match::not_found);
  CHECK(r.find(http_method::get, "/nothing").label == "unmatched");
  CHECK(r.max_body() == 10);
}

TEST_CASE("specificity only ranks templates that take the method") {
  router r{{declared(http_method::post, "/api/users/me"),
            declared(http_method::get, "/api/users/{id}")}};
  auto get = r.find(http_method::get, "/api/users/me");
  REQUIRE(get.kind == router::match::found);
  CHECK(get.index == 1);
  CHECK(get.params == std::vector<std::string>{"me"});
  CHECK(r.find(http_method::post, "/api/users/me").index == 0);
  auto put = r.find(http_method::put, "/api/users/me");
  CHECK(put.kind == router::match::method_not_allowed);
  CHECK(put.allow == "POST, GET");
  CHECK(put.label == "/api/users/me");
}

TEST_CASE("malformed route tables are refused when built") {
  CHECK_THROWS(router{{declared(http_method::get, "api")}});
  CHECK_THROWS(router{{declared(http_method::get, "/a//b")}});
  CHECK_THROWS(router{{declared(http_method::get, "/a/{Id}")}});
  CHECK_THROWS(router{{declared(http_method::get, "/a/x{id}")}});
  CHECK_THROWS(
      router{{declared(http_method::get, "/a/{x}"), declared(http_method::get, "/a/{y}")}});
  CHECK_NOTHROW(
      router{{declared(http_method::get, "/a/{x}"), declared(http_method::post, "/a/{y}")}});
}

TEST_CASE("methods come from a fixed set; anything else is OTHER") {
  CHECK(parse_method("GET") == http_method::get);
  CHECK(parse_method("DELETE") == http_method::delete_);
  CHECK(parse_method("get") == http_method::other);
  CHECK(parse_method("M00001XXXX") == http_method::other);
  CHECK(std::string(method_name(parse_method("PROPFIND"))) == "OTHER");
}

TEST_CASE("admission decides from the head alone, with statuses from the one table") {
  CHECK(refused_with(admit(http_method::other, "/api/users")) == 501);
  CHECK(refused_with(admit(http_method::get, "http://x/api/users/a")) == 400);
  CHECK(refused_with(admit(http_method::get, "/nothing")) == 404);
  auto wrong = admit(http_method::delete_, "/api/users/a");
  CHECK(refused_with(wrong) == 405);
  CHECK(header_of(*wrong.refusal, "Allow") == "GET");
  CHECK(wrong.route_label == "/api/users/{id}");
  // bodies: the route's limit from Content-Length, a Content-Type that names JSON
  auto big =
      admit(http_method::post, "/api/users", users::create_body_limit + 1, "application/json");
  CHECK(refused_with(big) == 413);
  CHECK(error_of(*big.refusal)["trace_id"] == "rid");
  CHECK(refused_with(admit(http_method::post, "/api/users", 10)) == 415);
  CHECK(refused_with(admit(http_method::post, "/api/users", 10, "text/plain")) == 415);
  CHECK(refused_with(admit(http_method::get, "/api/users/a", 10, "application/json")) == 413);
  CHECK_FALSE(admit(http_method::get, "/api/users/a", {}, "text/plain").refusal);  // no body
  auto ok = admit(http_method::post, "/api/users", 10, "Application/JSON; charset=utf-8");
  CHECK_FALSE(ok.refusal);
  CHECK(ok.body_limit == users::create_body_limit);
  CHECK(ok.route == 0);
  auto get = admit(http_method::get, "/api/users/bob?x=1");
  CHECK_FALSE(get.refusal);
  CHECK(get.params == std::vector<std::string>{"bob"});
  // admin paths: GET only, no body; /metrics only where details are served
  CHECK(admit(http_method::get, "/health").route_label == "/health");
  CHECK_FALSE(admit(http_method::get, "/metrics").refusal);
  CHECK(refused_with(admit(http_method::get, "/metrics", {}, {}, false)) == 404);
  CHECK(refused_with(admit(http_method::post, "/ready")) == 405);
  CHECK(refused_with(admit(http_method::get, "/health", 5, "application/json")) == 413);
}

TEST_CASE("errors render from the one table; internal details never reach the client") {
  auto bad = error_response(make_error(errc::invalid_argument, "name is bad", "name"), "r1");
  CHECK(bad.status == 400);
  CHECK(error_of(bad) == json{{"code", "invalid_argument"},
                              {"message", "name is bad"},
                              {"field", "name"},
                              {"trace_id", "r1"}});
  auto busy =
      error_response(make_error(errc::unavailable, "later", {}, std::chrono::seconds{2}), "r");
  CHECK(busy.status == 503);
  CHECK(header_of(busy, "Retry-After") == "2");
  CHECK(error_response(make_error(errc::outcome_unknown, "x"), "r").status == 504);
  CHECK(error_response(caf::make_error(caf::sec::request_receiver_down), "r").status == 503);
  auto internal = error_response(make_error(errc::internal, "disk /var/secret on fire"), "r9");
  CHECK(internal.status == 500);
  CHECK(internal.body.find("secret") == std::string::npos);
  CHECK(error_of(internal)["trace_id"] == "r9");
  CHECK(
      error_response(caf::make_error(caf::sec::unexpected_message), "r").body.find("unexpected") ==
      std::string::npos);
}

TEST_CASE("a create body becomes a command; bad bodies name the field") {
  auto cmd = users::create_user_from_json(json::parse(R"({"id":"a","name":"A","email":"a@b.co"})"));
  REQUIRE(cmd);
  CHECK(cmd->id == "a");
  CHECK(cmd->name == "A");
  CHECK(cmd->email == "a@b.co");
  auto field_of = [](const char* body) {
    auto r = users::create_user_from_json(json::parse(body));
    REQUIRE_FALSE(r);
    auto info = describe(r.error());
    CHECK(info.status == 400);
    return info.field;
  };
  CHECK(field_of(R"({"name":"A","email":"a@b.co","admin":true})") == "admin");
  CHECK(field_of(R"({"name":5,"email":"a@b.co"})") == "name");
  CHECK(field_of(R"({"name":"A"})") == "email");
  CHECK(field_of("[1]").empty());
}

TEST_CASE("bodies nested too deeply or not JSON are invalid_json") {
  http_request req;
  json out;
  req.body = std::string(40, '[') + std::string(40, ']');
  auto deep = parse_json_body(req, out);
  REQUIRE(deep);
  CHECK(describe(deep).code == errc::invalid_json);
  req.body = R"({"a":)";
  CHECK(describe(parse_json_body(req, out)).code == errc::invalid_json);
  // A number no double holds is nlohmann's out_of_range, not a parse_error (found by
  // fuzz_topology): still the client's invalid JSON, not a 500.
  req.body = R"({"quantity": 1e999})";
  CHECK(describe(parse_json_body(req, out)).code == errc::invalid_json);
  req.body = std::string(32, '[') + std::string(32, ']');
  CHECK_FALSE(parse_json_body(req, out));
}

TEST_CASE("a body that is not JSON is explained in our words, with where it goes wrong") {
  http_request req;
  json out;
  auto message = [&](std::string body) {
    req.body = std::move(body);
    auto info = describe(parse_json_body(req, out));
    CHECK(info.code == errc::invalid_json);
    return info.message;
  };
  CHECK(message("{\"a\": 1,\n  \"b\": x}") ==
        "the body is not valid JSON: unexpected 'x' at line 2, column 8");
  CHECK(message(R"({"a":)") ==
        "the body is not valid JSON: it ends before the value does (line 1, column 6)");
  CHECK(message("") == "the body is empty; it must be a JSON value");
  CHECK(message("{\"a\": \"\x01\"}") ==
        "the body is not valid JSON: unexpected 0x01 at line 1, column 8");
  CHECK(message(R"({"quantity": 1e999})") == "the body is not valid JSON: a number is too large");
  // Nothing of the parser's own text reaches the client.
  CHECK(message("nope").find("json.exception") == std::string::npos);
}

TEST_CASE("a user renders as JSON with an ISO-8601 creation time") {
  users::user u{"a", "Zoë \"Z\"", "a@b.co", 1764169200123};
  auto body = users::user_json(u);
  CHECK(body["id"] == "a");
  CHECK(body["created_at"] == "2025-11-26T15:00:00.123Z");
  // The direct rendering every read answers with is the same text.
  CHECK(users::user_body(u) == dump_json(body));
}
