// Topology files: placement, typed settings, the resolved call graph, and refusals that
// name the JSON path of the problem.
#include <catch2/catch.hpp>

#include "runtime/node/topology.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

struct toy_settings {
  std::int64_t x = 3;
};

// users: routed, settings {x}; gateway: the HTTP entry; audit: calls users explicitly.
std::vector<capability> known_capabilities() {
  capability users;
  users.name = "users";
  users.read_settings = [](settings_reader& r) -> std::any {
    return toy_settings{r.integer("x", 0, 9, 3)};
  };
  route get_user;
  get_user.method = http_method::get;
  get_user.path = "/api/users/{id}";
  users.routes.push_back(get_user);
  capability gateway;
  gateway.name = "gateway";
  gateway.http_entry = std::make_shared<http_entry>();
  capability audit;
  audit.name = "audit";
  audit.calls = {"users"};
  return {users, gateway, audit};
}

const std::vector<capability> known = known_capabilities();

std::string path_of_error(const std::string& text) {
  try {
    parse_topology(text, "t.json", known);
  } catch (const topology_error& e) {
    CHECK(e.file() == "t.json");
    return e.path();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("a two-node topology parses into nodes, addresses, placements and call graph") {
  auto topo = parse_topology(R"({
    "name": "shop", "data_dir": "data",
    "nodes": {
      "edge": {"listen": "127.0.0.1:4101", "admin": "127.0.0.1:9101", "http": "0.0.0.0:8080",
               "capabilities": ["gateway"]},
      "core": {"listen": "127.0.0.1:4102", "capabilities": ["users", "audit"]}
    },
    "capabilities": {"users": {"x": 1}}
  })",
                             "t.json", known);
  CHECK(topo.name == "shop");
  CHECK(topo.data_dir == "data");
  REQUIRE(topo.nodes.size() == 2);
  CHECK(topo.host_of("users")->name == "core");
  CHECK(topo.host_of("gateway")->name == "edge");
  CHECK(topo.nodes.at("edge").http->port == 8080);
  CHECK_FALSE(topo.nodes.at("core").admin);
  CHECK(std::any_cast<toy_settings>(topo.settings.at("users")).x == 1);
  // the gateway calls what has routes; audit calls what it declares
  CHECK(topo.calls.at("gateway") == std::vector<std::string>{"users"});
  CHECK(topo.calls.at("audit") == std::vector<std::string>{"users"});
  CHECK(topo.calls.at("users").empty());
  auto plan = describe_plan(topo);
  CHECK(plan.find("gateway  (calls users@core)") != std::string::npos);
  CHECK(plan.find("audit  (calls users@local)") != std::string::npos);
}

TEST_CASE("defaults: name, data_dir, settings and runtime sections may be omitted") {
  auto topo = parse_topology(R"({"nodes": {"n": {"capabilities": ["users"]}}})", "t", known);
  CHECK(topo.name == "troupe");
  CHECK(topo.data_dir == "var");
  CHECK(std::any_cast<toy_settings>(topo.settings.at("users")).x == 3);
  CHECK(topo.http.max_connections == 10000);
  CHECK(topo.health.database_check_interval == 60000ms);
  CHECK(topo.call_limits.max_in_flight == 1024);
}

TEST_CASE("runtime settings are read into their sections") {
  auto topo = parse_topology(R"({"nodes": {"n": {"capabilities": ["users"]}},
      "http": {"max_connections": 50, "idle_timeout_ms": 1000, "header_bytes": 4096,
               "write_timeout_ms": 2000},
      "health": {"database_check_interval_ms": 500}, "calls": {"max_in_flight": 8}})",
                             "t", known);
  CHECK(topo.http.max_connections == 50);
  CHECK(topo.http.idle_timeout == 1000ms);
  CHECK(topo.http.write_timeout == 2000ms);
  CHECK(topo.http.header_bytes == 4096);
  CHECK(topo.health.database_check_interval == 500ms);
  CHECK(topo.call_limits.max_in_flight == 8);
}

TEST_CASE("failure detection: heartbeat and connection timeout, the timeout at least two beats") {
  auto plain = parse_topology(R"({"nodes": {"n": {"capabilities": ["users"]}}})", "t", known);
  CHECK(plain.detection.heartbeat == 500ms);
  CHECK(plain.detection.connection_timeout == 2000ms);
  auto fast = parse_topology(R"({"nodes": {"n": {"capabilities": ["users"]}},
      "cluster": {"heartbeat_ms": 100, "connection_timeout_ms": 400, "drain_ms": 3000,
                  "leave_ms": 50}})",
                             "t", known);
  CHECK(fast.detection.heartbeat == 100ms);
  CHECK(fast.detection.connection_timeout == 400ms);
  CHECK(fast.detection.drain == 3000ms);
  CHECK(fast.detection.leave == 50ms);
  CHECK(plain.detection.drain == 10000ms);
  CHECK(plain.detection.leave == 200ms);
  auto base = std::string(R"({"nodes": {"n": {"capabilities": ["users"]}}, "cluster": )");
  CHECK(path_of_error(base + R"({"heartbeat_ms": 500, "connection_timeout_ms": 600}})") ==
        "/cluster/connection_timeout_ms");
  CHECK(path_of_error(base + R"({"heartbeat_ms": 0}})") == "/cluster/heartbeat_ms");
  CHECK(path_of_error(base + R"({"leave_ms": 20000}})") == "/cluster/leave_ms");
  CHECK(path_of_error(base + R"({"heartbeat": 5}})") == "/cluster/heartbeat");
}

TEST_CASE("circuit breakers: defaults for every callee, overridden key by key per callee") {
  auto topo = parse_topology(R"({"nodes": {"n": {"capabilities": ["users", "audit"]}},
      "calls": {"breaker": {"failure_ratio": 0.25, "minimum_calls": 4},
                "per_callee": {"users": {"breaker": {"open_ms": 250, "trial_calls": 1}}}}})",
                             "t", known);
  auto& audit = topo.call_limits.breaker_for("audit");
  CHECK(audit.failure_ratio == 0.25);
  CHECK(audit.minimum_calls == 4);
  CHECK(audit.open_for == 5000ms);
  auto& users = topo.call_limits.breaker_for("users");
  CHECK(users.failure_ratio == 0.25);  // from the defaults above
  CHECK(users.minimum_calls == 4);
  CHECK(users.open_for == 250ms);
  CHECK(users.trial_calls == 1);
  auto plain = parse_topology(R"({"nodes": {"n": {"capabilities": ["users"]}}})", "t", known);
  CHECK(plain.call_limits.breaker_for("users").failure_ratio == 0.5);
  CHECK(plain.call_limits.breaker_for("users").window == 10000ms);
  CHECK(plain.call_limits.breaker_for("users").minimum_calls == 10);
  CHECK(plain.call_limits.breaker_for("users").trial_calls == 3);

  auto base = std::string(R"({"nodes": {"n": {"capabilities": ["users"]}}, "calls": )");
  CHECK(path_of_error(base + R"({"breaker": {"failure_ratio": 1.5}}})") ==
        "/calls/breaker/failure_ratio");
  CHECK(path_of_error(base + R"({"breaker": {"open": 5}}})") == "/calls/breaker/open");
  CHECK(path_of_error(base + R"({"breaker": []}})") == "/calls/breaker");
  CHECK(path_of_error(base + R"({"per_callee": {"userz": {}}}})") == "/calls/per_callee/userz");
  CHECK(path_of_error(base + R"({"per_callee": {"users": {"breakr": {}}}}})") ==
        "/calls/per_callee/users/breakr");
  CHECK(path_of_error(base + R"({"per_callee": {"users": {"breaker": {"trial_calls": 0}}}}})") ==
        "/calls/per_callee/users/breaker/trial_calls");
}

TEST_CASE("every refusal names the JSON path of the problem") {
  CHECK(path_of_error("{") == "");
  CHECK(path_of_error(R"({"name": 1e999})") == "");  // found by fuzz_topology: was a crash
  CHECK(path_of_error("[]") == "");
  CHECK(path_of_error(R"({"nodes": {}})") == "/nodes");
  CHECK(path_of_error(R"({"nodez": {}})") == "/nodez");
  CHECK(path_of_error(R"({"nodes": {"a": {"capabilities": ["users"], "lisen": "x"}}})") ==
        "/nodes/a/lisen");
  CHECK(path_of_error(R"({"nodes": {"a": {"capabilities": ["users", "userz"]}}})") ==
        "/nodes/a/capabilities/1");
  CHECK(path_of_error(
            R"({"nodes": {"a": {"capabilities": ["users"]}, "b": {"capabilities": ["users"]}}})") ==
        "/nodes/b/capabilities/0");
  CHECK(path_of_error(R"({"nodes": {"a": {"capabilities": []}}, "capabilities": {"users": {}}})") ==
        "/capabilities/users");
  CHECK(path_of_error(
            R"({"nodes": {"a": {"capabilities": ["users"]}}, "capabilities": {"carts": {}}})") ==
        "/capabilities/carts");
  // an entry with nothing to route, and a declared callee hosted nowhere
  CHECK(
      path_of_error(R"({"nodes": {"a": {"http": "127.0.0.1:1", "capabilities": ["gateway"]}}})") ==
      "/nodes/a/capabilities/0");
  CHECK(path_of_error(R"({"nodes": {"a": {"capabilities": ["audit"]}}})") ==
        "/nodes/a/capabilities/0");
  CHECK(path_of_error(R"({"nodes": {"a": {"capabilities": ["gateway", "users"]}}})") ==
        "/nodes/a/http");
  CHECK(path_of_error(R"({"nodes": {"a": {"listen": "127.0.0.1:5", "capabilities": ["users"]},
                                     "b": {"admin": "127.0.0.1:5", "capabilities": []}}})") ==
        "/nodes/b/admin");
  CHECK(path_of_error(R"({"nodes": {"a": {"listen": "localhost", "capabilities": ["users"]}}})") ==
        "/nodes/a/listen");
  CHECK(path_of_error(R"({"nodes": {"a": {"listen": "h:70000", "capabilities": ["users"]}}})") ==
        "/nodes/a/listen");
  CHECK(path_of_error(R"({"nodes": {"Bad Name": {"capabilities": ["users"]}}})") ==
        "/nodes/Bad Name");
  // a remote dependency needs a listen address on the node that hosts it, not port 0
  CHECK(path_of_error(R"({"nodes": {"a": {"http": "127.0.0.1:1", "capabilities": ["gateway"]},
                                     "b": {"capabilities": ["users"]}}})") == "/nodes/b/listen");
  CHECK(path_of_error(R"({"nodes": {"a": {"http": "127.0.0.1:1", "capabilities": ["gateway"]},
                                     "b": {"listen": "127.0.0.1:0", "capabilities": ["users"]}}})") ==
        "/nodes/b/listen");
  CHECK(path_of_error(
            R"({"nodes": {"n": {"capabilities": ["users"]}}, "http": {"max_connections": 0}})") ==
        "/http/max_connections");
  CHECK(path_of_error(R"({"nodes": {"n": {"capabilities": ["users"]}}, "calls": {"max": 1}})") ==
        "/calls/max");
  CHECK(path_of_error(R"({"nodes": {"n": {"capabilities": ["users"]}}, "health": []})") ==
        "/health");
}

TEST_CASE("tracing settings: an exporter with what it needs, bounds within limits") {
  auto with = [](const std::string& tracing) {
    return R"({"nodes": {"n": {"capabilities": ["users"]}}, "tracing": )" + tracing + "}";
  };
  auto topo =
      parse_topology(with(R"({"exporter": "otlp", "endpoint": "http://127.0.0.1:4318/v1/traces",
               "sample_ratio": 0.25, "queue_size": 100, "batch_size": 10,
               "flush_interval_ms": 200, "export_timeout_ms": 1000})"),
                     "t.json", known);
  CHECK(topo.tracing.kind == tracing::settings::exporter::otlp);
  CHECK(topo.tracing.sample_ratio == 0.25);
  CHECK(topo.tracing.queue_size == 100);
  CHECK(topo.tracing.flush_interval == std::chrono::milliseconds{200});
  CHECK(parse_topology(with(R"({"exporter": "file", "file": "{data}/t.jsonl", "max_file_mb": 2})"),
                       "t.json", known)
            .tracing.max_file_bytes == 2u << 20);
  CHECK(parse_topology(with("{}"), "t.json", known).tracing.kind ==
        tracing::settings::exporter::none);
  CHECK(path_of_error(with(R"({"exporter": "zipkin"})")) == "/tracing/exporter");
  CHECK(path_of_error(with(R"({"exporter": "otlp"})")) == "/tracing/endpoint");
  CHECK(path_of_error(with(R"({"exporter": "otlp", "endpoint": "https://c:4318"})")) ==
        "/tracing/endpoint");
  CHECK(path_of_error(with(R"({"exporter": "file"})")) == "/tracing/file");
  CHECK(path_of_error(with(R"({"exporter": "none", "sample_ratio": 2})")) ==
        "/tracing/sample_ratio");
  CHECK(path_of_error(with(R"({"exporter": "none", "queue_size": 0})")) == "/tracing/queue_size");
  CHECK(path_of_error(with(R"({"exporter": "none", "batch": 5})")) == "/tracing/batch");
}

TEST_CASE("capability settings are checked by the capability, with their own path") {
  auto with_settings = [](const std::string& settings) {
    return R"({"nodes": {"a": {"http": "127.0.0.1:1", "capabilities": ["gateway", "users"]}},
               "capabilities": )" +
           settings + "}";
  };
  CHECK(path_of_error(with_settings(R"({"users": {"x": 10}})")) == "/capabilities/users/x");
  CHECK(path_of_error(with_settings(R"({"users": {"x": "1"}})")) == "/capabilities/users/x");
  CHECK(path_of_error(with_settings(R"({"users": {"y": 1}})")) == "/capabilities/users/y");
  CHECK(path_of_error(with_settings(R"({"gateway": {"any": 1}})")) == "/capabilities/gateway/any");
  CHECK(path_of_error(with_settings(R"({"users": []})")) == "/capabilities/users");
  CHECK(path_of_error(with_settings(R"({"users": {"x": 9}, "gateway": {}})")) == "(accepted)");
}

TEST_CASE("port 0 never counts as a duplicate address") {
  CHECK_NOTHROW(parse_topology(R"({"nodes": {"a": {"http": "127.0.0.1:0", "admin": "127.0.0.1:0",
                                  "capabilities": ["gateway", "users"]}}})",
                               "t", known));
}
