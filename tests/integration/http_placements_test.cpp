// The same HTTP scenario against dev mode (one process) and the two-node topology (two
// processes): every status and body must match, and each must be what the API promises.
#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>

#include "actors/shop/shop.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct step {
  std::string name;
  int status;
  json body;
};

// Runs the scenario over one kept-alive connection; checks each answer; returns the
// transcript with times and generated ids replaced so placements can be compared.
std::vector<step> run_scenario(const std::string& where) {
  http_client http{where};
  std::vector<step> out;
  auto record = [&](const std::string& name, const http_result& r) {
    json body = json::parse(r.body);
    // Every answer carries its request id; errors repeat it in the body. Ids differ per run.
    CHECK(r.headers.at("x-request-id").size() == 32);
    if (body.contains("error")) {
      CHECK(body["error"]["trace_id"] == r.headers.at("x-request-id"));
      body["error"].erase("trace_id");
    }
    if (body.contains("created_at")) {
      CHECK(body["created_at"].get<std::string>().size() == 24);
      body["created_at"] = "<time>";
    }
    if (body.contains("id") && body["id"].get<std::string>().rfind("u-", 0) == 0)
      body["id"] = "<generated>";
    out.push_back({name, r.status, body});
    CHECK(r.headers.at("content-type") == "application/json");
    return body;
  };

  auto created =
      http.post_json("/api/users", R"({"id":"alice","name":"Alice","email":"alice@example.com"})");
  CHECK(created.status == 201);
  CHECK(created.headers.at("location") == "/api/users/alice");
  auto body = record("create", created);
  CHECK(body["name"] == "Alice");
  CHECK(body["email"] == "alice@example.com");

  auto read = http.get("/api/users/alice");
  CHECK(read.status == 200);
  CHECK(json::parse(read.body) == json::parse(created.body));
  record("read", read);

  auto dup =
      http.post_json("/api/users", R"({"id":"alice","name":"Other","email":"o@example.com"})");
  CHECK(dup.status == 409);
  CHECK(record("duplicate", dup)["error"]["code"] == "already_exists");
  CHECK(json::parse(http.get("/api/users/alice").body)["name"] == "Alice");  // nothing overwritten

  auto bad_email = http.post_json("/api/users", R"({"id":"bob","name":"Bob","email":"bob"})");
  CHECK(bad_email.status == 400);
  CHECK(record("bad email", bad_email)["error"]["field"] == "email");

  auto long_name = http.post_json("/api/users", R"({"id":"bob","name":")" + std::string(201, 'b') +
                                                    R"(","email":"b@example.com"})");
  CHECK(long_name.status == 400);
  CHECK(record("long name", long_name)["error"]["field"] == "name");

  auto missing = http.post_json("/api/users", R"({"id":"bob","email":"b@example.com"})");
  CHECK(missing.status == 400);
  CHECK(record("missing name", missing)["error"]["field"] == "name");

  auto not_json = http.post_json("/api/users", R"({"id":)");
  CHECK(not_json.status == 400);
  CHECK(record("invalid JSON", not_json)["error"]["code"] == "invalid_json");
  CHECK(http.get("/api/users/bob").status == 404);  // none of the bad creates stored anything

  auto unknown = http.get("/api/users/nobody");
  CHECK(unknown.status == 404);
  CHECK(record("unknown id", unknown)["error"]["code"] == "not_found");

  auto no_route = http.get("/api/nothing");
  CHECK(no_route.status == 404);
  record("unknown route", no_route);

  auto wrong_method = http.request("DELETE", "/api/users/alice");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.headers.at("allow") == "GET");
  record("wrong method", wrong_method);

  auto generated = http.post_json("/api/users", R"({"name":"Gen","email":"gen@example.com"})");
  CHECK(generated.status == 201);
  auto gen_id = json::parse(generated.body)["id"].get<std::string>();
  record("generated id", generated);
  CHECK(http.get("/api/users/" + gen_id).status == 200);

  auto expecting =
      http.request("POST", "/api/users", R"({"id":"eve","name":"Eve","email":"eve@example.com"})",
                   {{"Content-Type", "application/json"}, {"Expect", "100-continue"}});
  CHECK(expecting.status == 201);
  CHECK(expecting.interim == std::vector<int>{100});  // the go-ahead came before the answer
  record("expect 100-continue", expecting);

  auto untyped = http.request("POST", "/api/users", R"({"name":"U","email":"u@example.com"})");
  CHECK(untyped.status == 415);
  CHECK(record("no content type", untyped)["error"]["code"] == "unsupported_media_type");

  auto made_up = http.request("BREW", "/api/users/alice");
  CHECK(made_up.status == 501);
  CHECK(record("made-up method", made_up)["error"]["code"] == "not_implemented");

  auto deep = http.post_json("/api/users", std::string(100, '[') + std::string(100, ']'));
  CHECK(deep.status == 400);
  CHECK(record("deep JSON", deep)["error"]["code"] == "invalid_json");

  CHECK(http.connects() == 1);  // keep-alive: everything so far on one connection

  // A create needs kilobytes: a body just over the route's 4 KiB is refused, as is a huge one.
  auto over = http.post_json("/api/users", R"({"name":")" + std::string(4100, 'x') + R"("})");
  CHECK(over.status == 413);
  CHECK(record("over the route limit", over)["error"]["code"] == "payload_too_large");
  auto huge = http.post_json("/api/users", R"({"name":")" + std::string(1100000, 'x') + R"("})");
  CHECK(huge.status == 413);
  CHECK(record("too large", huge)["error"]["code"] == "payload_too_large");
  return out;
}

// Prometheus text as served: the counters this scenario must have produced.
void check_metrics(const std::string& where) {
  http_client http{where};
  auto metrics = http.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find(
            R"(http_requests_total{method="GET",route="/api/users/{id}",status_code="200"} 3)") !=
        std::string::npos);
  CHECK(
      metrics.body.find(
          R"(http_request_duration_seconds_count{method="POST",route="/api/users",status_code="201"} 3)") !=
      std::string::npos);
}

}  // namespace

TEST_CASE("dev mode and the two-node topology answer the scenario identically") {
  temp_dir dir;
  std::vector<step> dev, two;
  {
    // dev mode has no admin listener: the API listener serves the details and /metrics
    troupe_node node({"--http", "127.0.0.1:0", "--data", dir.file("dev-data")}, dir.path(), "dev");
    dev = run_scenario(node.http());
    check_metrics(node.http());
    http_client http{node.http()};
    auto health = http.get("/health");
    CHECK(health.status == 200);
    // One line per hosted capability and per database, all up.
    std::set<std::string> names;
    auto report = json::parse(health.body);
    for (auto& check : report["checks"]) {
      names.insert(check["name"].get<std::string>());
      CHECK(check["status"] == "up");
    }
    for (auto name : {"gateway", "users", "users.db", "inventory", "inventory.db"})
      CHECK(names.count(name) == 1);
    CHECK(health.body.find("dev-data") == std::string::npos);  // no file paths
    CHECK(http.get("/ready").status == 200);
    CHECK(node.stop() == 0);
  }
  {
    two_node_cluster cluster{dir};
    auto& core = cluster.core();
    auto& edge = cluster.edge();
    two = run_scenario(edge.http());
    check_metrics(edge.admin());
    // the API listener keeps bare probes; details and metrics are on the admin listener
    http_client api{edge.http()};
    CHECK(json::parse(api.get("/health").body) == json{{"status", "up"}});
    CHECK(json::parse(api.get("/ready").body) == json{{"ready", true}});
    CHECK(api.get("/metrics").status == 404);
    http_client core_admin{core.admin()};
    auto health = json::parse(core_admin.get("/health").body);
    CHECK(health["status"] == "up");
    // One check per capability core hosts, and one per database it keeps.
    std::size_t expected_checks = 0;
    for (auto& node : two_node_plan())
      for (auto& name : node.name == "core" ? node.capabilities : std::vector<std::string>{})
        for (auto& cap : troupe::shop::capabilities())
          if (cap.name == name) expected_checks += cap.has_database ? 2 : 1;
    CHECK(expected_checks >= 2);
    CHECK(health["checks"].size() == expected_checks);
    CHECK(api.get("/sagas").status == 404);  // details belong to the admin listener
    CHECK(core_admin.get("/sagas").status == 200);
    // core first, while edge still holds its proxies: it must still exit cleanly (a node
    // exits 1 when its shutdown watchdog has to cut a hang)
    CHECK(core.stop() == 0);
    CHECK(edge.stop() == 0);
  }
  REQUIRE(dev.size() == two.size());
  for (std::size_t i = 0; i < dev.size(); ++i) {
    INFO("step " << dev[i].name);
    CHECK(dev[i].name == two[i].name);
    CHECK(dev[i].status == two[i].status);
    CHECK(dev[i].body == two[i].body);
  }
}

TEST_CASE("a user survives a restart of a dev-mode node") {
  temp_dir dir;
  {
    troupe_node node({"--http", "127.0.0.1:0", "--data", dir.file("data")}, dir.path(), "first");
    http_client http{node.http()};
    REQUIRE(http.post_json("/api/users", R"({"id":"kept","name":"Kept","email":"k@example.com"})")
                .status == 201);
    CHECK(node.stop() == 0);
  }
  troupe_node node({"--http", "127.0.0.1:0", "--data", dir.file("data")}, dir.path(), "second");
  http_client http{node.http()};
  auto read = http.get("/api/users/kept");
  CHECK(read.status == 200);
  CHECK(json::parse(read.body)["email"] == "k@example.com");
}
