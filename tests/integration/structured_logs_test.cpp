// A node's log as a collector reads it: every line on stderr a JSON object with time, level,
// node and capability; an internal error logged with the request's trace id, the one the
// client got; and the configured level dropping what is below it.
#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/auth.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;

namespace {

std::vector<json> lines_of(const std::string& text) {
  std::vector<json> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    auto parsed = json::parse(line, nullptr, false);
    CHECK_FALSE(parsed.is_discarded());
    if (!parsed.is_discarded()) out.push_back(parsed);
  }
  return out;
}

}  // namespace

TEST_CASE("every log line is a JSON object; an internal error carries the trace id") {
  temp_dir dir;
  auto plan = one_node_plan();
  plan.front().failpoints = "users.store.create=crash*1";
  cluster c{dir, plan};
  http_client http{c.http()};
  auto crashed = http.post_json("/api/users",
                                R"({"id": "test-admin", "name": "A", "email": "a@example.com"})");
  REQUIRE(crashed.status == 500);
  auto request_id = crashed.headers["x-request-id"];
  REQUIRE(request_id.size() == 32);

  bool traced = false;
  for (auto& line : lines_of(c.stderr_of("dev"))) {
    INFO(line.dump());
    CHECK(line["node"] == "dev");
    CHECK(line["time"].get<std::string>().size() == 24);  // 2026-12-01T02:51:15.466Z
    CHECK(line["capability"].is_string());
    CHECK(line["message"].is_string());
    auto level = line["level"].get<std::string>();
    CHECK((level == "info" || level == "warn" || level == "error"));
    if (line.value("trace_id", "") == request_id) traced = level == "error";
  }
  CHECK(traced);
}

TEST_CASE("the level drops lines below it") {
  temp_dir dir;
  cluster c{dir, one_node_plan(), {}, {}, R"("logs": {"level": "warn"})"};
  http_client http{c.http()};
  CHECK(http.get("/health").status == 200);
  // An info line every start writes (the token key's origin) is not there.
  for (auto& line : lines_of(c.stderr_of("dev"))) CHECK(line["level"] != "info");
  CHECK(c.stderr_of("dev").find("bearer tokens") == std::string::npos);
}

TEST_CASE("why a token was refused is logged under the request's trace id, never sent") {
  temp_dir dir;
  cluster c{dir, one_node_plan()};
  http_client http{c.http()};
  auto expired = test_token("alice", {}, std::chrono::seconds{-3600});
  auto forged = forge_token({{"alg", "HS256"}, {"typ", "JWT"}},
                            {{"sub", "alice"}, {"exp", 4102444800}}, test_secret() + "x");
  auto refused = [&](const std::string& token) {
    http.use_token(token);
    auto r = http.get("/api/users/alice");
    CHECK(r.status == 401);
    CHECK(r.body.find("expired") == std::string::npos);
    CHECK(r.body.find("signature") == std::string::npos);
    return r.headers["x-request-id"];
  };
  auto logged = [&](const std::string& trace_id, const std::string& reason) {
    return eventually(
        [&] {
          for (auto& line : lines_of(c.stderr_of("dev")))
            if (line.value("trace_id", "") == trace_id)
              return line["level"] == "warn" && line["capability"] == "auth" &&
                     line["message"].get<std::string>().find(reason) != std::string::npos;
          return false;
        },
        std::chrono::seconds{5});
  };
  auto expired_id = refused(expired);
  auto forged_id = refused(forged);
  CHECK(logged(expired_id, "bearer token refused: expired"));
  CHECK(logged(forged_id, "bearer token refused: bad signature"));

  // A flood of refused tokens writes at most 10 lines a second, then says how many it held
  // back.
  auto count_lines = [&] {
    int n = 0;
    for (auto& line : lines_of(c.stderr_of("dev"))) n += line["capability"] == "auth" ? 1 : 0;
    return n;
  };
  auto before = count_lines();
  auto flood_start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) refused(forged);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                  flood_start)
                     .count();
  // Each second window started during the flood lets 10 through.
  CHECK(count_lines() - before <= 10 * (seconds + 2));
  CHECK(count_lines() - before < 200);
  CHECK(eventually(
      [&] {
        refused(forged);
        return c.stderr_of("dev").find("refusals before this one were not logged") !=
               std::string::npos;
      },
      std::chrono::seconds{5}, std::chrono::milliseconds{100}));
}
