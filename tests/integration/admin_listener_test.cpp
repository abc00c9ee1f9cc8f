// The admin listener's exposure: bound to loopback when given as a port alone, a warning when
// it is open to the network without tokens, and, with the topology's "admin": {"auth": ...},
// tokens for /metrics (metrics:read) and /sagas (admin) while probes still work without one.
#include <catch2/catch.hpp>

#include <chrono>

#include <nlohmann/json.hpp>

#include "tests/support/auth.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Not the gateway's test_secret(): admin tokens and API tokens are told apart by their key.
const std::string admin_secret = "admin-secret-for-tests-0123456789-abcdefghijklmnop";

std::string admin_token_with(const std::vector<std::string>& scopes) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::string scope;
  for (auto& s : scopes) scope += (scope.empty() ? "" : " ") + s;
  return forge_token({{"alg", "HS256"}, {"typ", "JWT"}},
                     {{"sub", "ops"}, {"scope", scope}, {"iat", now}, {"exp", now + 600}},
                     admin_secret);
}

http_result get_as(http_client& http, const std::string& target, const std::string& token) {
  http.use_token("");  // no Authorization header at all unless `token` is given
  if (token.empty()) return http.get(target);
  return http.request("GET", target, {}, {{"Authorization", "Bearer " + token}});
}

}  // namespace

TEST_CASE("an admin address given as a port alone is loopback's") {
  temp_dir dir;
  dir.write("t.json", R"({"nodes": {"a": {"admin": "9101", "capabilities": ["users"]},
                                    "b": {"admin": ":9102", "capabilities": ["inventory"]},
                                    "c": {"admin": "0.0.0.0:9103", "capabilities": ["payments"]}},
                          "capabilities": {}})");
  auto plan = run_command({troupe_binary(), "topology", "check", dir.file("t.json")}, 30s);
  INFO(plan.out << plan.err);
  CHECK(plan.out.find("admin   127.0.0.1:9101") != std::string::npos);
  CHECK(plan.out.find("admin   127.0.0.1:9102") != std::string::npos);
  CHECK(plan.out.find("admin   0.0.0.0:9103") != std::string::npos);
  dir.write("bad.json", R"({"nodes": {"a": {"admin": "91011", "listen": "91011",
                                            "capabilities": ["users"]}}})");
  auto bad = run_command({troupe_binary(), "topology", "check", dir.file("bad.json")}, 30s);
  CHECK(bad.status == 2);
  CHECK(bad.err.find("/nodes/a/listen") != std::string::npos);  // only admin takes a port alone
}

TEST_CASE("an admin listener open to the network without tokens is warned about") {
  temp_dir dir;
  dir.write("t.json", json{{"data_dir", dir.file("var")},
                           {"nodes",
                            {{"a", {{"admin", "0.0.0.0:0"}, {"capabilities", {"users"}}}},
                             {"b", {{"admin", ":0"}, {"capabilities", {"inventory"}}}}}}}
                          .dump());
  troupe_node open{{"run", "--topology", dir.file("t.json"), "--node", "a"}, dir.path(), "a"};
  troupe_node local{{"run", "--topology", dir.file("t.json"), "--node", "b"}, dir.path(), "b"};
  CHECK(local.admin().rfind("127.0.0.1:", 0) == 0);
  CHECK(open.process().err().find("answers anyone who reaches it") != std::string::npos);
  CHECK(local.process().err().find("answers anyone") == std::string::npos);
}

TEST_CASE("with admin auth, /metrics and /sagas need tokens of the admin key; probes do not") {
  temp_dir dir;
  process_options env;
  env.env.push_back("TEST_ADMIN_SECRET=" + admin_secret);
  cluster c{dir,
            one_node_plan(),
            {},
            {{"dev", env}},
            R"("admin": {"auth": {"secret_env": "TEST_ADMIN_SECRET"}})"};
  http_client http{c.node("dev").admin()};
  auto metrics_reader = admin_token_with({"metrics:read"});
  auto operator_token = admin_token_with({"admin"});

  auto anonymous = get_as(http, "/metrics", "");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.headers["www-authenticate"].rfind("Bearer realm=\"troupe\"", 0) == 0);
  // The gateway's admin token is signed with the other key.
  CHECK(get_as(http, "/metrics", admin_token()).status == 401);
  auto scraped = get_as(http, "/metrics", metrics_reader);
  CHECK(scraped.status == 200);
  CHECK(scraped.body.find("# TYPE http_requests_total counter") != std::string::npos);
  CHECK(get_as(http, "/metrics", operator_token).status == 200);

  CHECK(get_as(http, "/sagas", metrics_reader).status == 403);
  CHECK(get_as(http, "/sagas", "").status == 401);
  CHECK(get_as(http, "/sagas", operator_token).status == 200);

  // Probes: bare without a token, detailed with an admin one, refused with a bad one.
  auto probe = get_as(http, "/health", "");
  CHECK(probe.status == 200);
  CHECK(json::parse(probe.body) == json{{"status", "up"}});
  CHECK(get_as(http, "/ready", "").status == 200);
  auto detailed = get_as(http, "/health", operator_token);
  CHECK(detailed.status == 200);
  CHECK(json::parse(detailed.body).contains("checks"));
  CHECK(get_as(http, "/health", metrics_reader).status == 403);
  CHECK(get_as(http, "/health", admin_token()).status == 401);

  // `troupe token --admin` mints with the same key.
  auto minted = run_command(
      {"/usr/bin/env", "TEST_ADMIN_SECRET=" + admin_secret, troupe_binary(), "token", "--admin",
       "--topology", c.topology_file(), "--sub", "prometheus", "--scope", "metrics:read"},
      30s);
  REQUIRE(minted.status == 0);
  auto token = minted.out.substr(0, minted.out.find('\n'));
  CHECK(get_as(http, "/metrics", token).status == 200);
  CHECK(get_as(http, "/sagas", token).status == 403);

  // Without the key the node does not start.
  c.stop("dev");
  process_options weak;
  weak.env.push_back("TEST_ADMIN_SECRET=short");
  auto refused = c.launch("dev", weak);
  CHECK(refused->wait(30s) == 2);
  CHECK(refused->err().find("cannot verify admin tokens") != std::string::npos);
}
