#include <catch2/catch.hpp>

#include "runtime/topology.hpp"

using namespace troupe;

namespace {

const std::vector<capability_traits> known = {{"users",
                                               {},
                                               false,
                                               [](const std::string& s) {
                                                 return check_integer_settings(s, {{"x", 0, 9}});
                                               }},
                                              {"gateway", {"users"}, true}};

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

TEST_CASE("a two-node topology parses into nodes, addresses and placements") {
  auto topo = parse_topology(R"({
    "name": "shop", "data_dir": "data",
    "nodes": {
      "edge": {"listen": "127.0.0.1:4101", "admin": "127.0.0.1:9101", "http": "0.0.0.0:8080",
               "capabilities": ["gateway"]},
      "core": {"listen": "127.0.0.1:4102", "capabilities": ["users"]}
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
  CHECK(topo.settings.at("users") == R"({"x":1})");
  auto plan = describe_plan(topo, known);
  CHECK(plan.find("gateway  (calls users@core)") != std::string::npos);
}

TEST_CASE("defaults: name and data_dir may be omitted") {
  auto topo = parse_topology(R"({"nodes": {"n": {"capabilities": ["users"]}}})", "t", known);
  CHECK(topo.name == "troupe");
  CHECK(topo.data_dir == "var");
}

TEST_CASE("every refusal names the JSON path of the problem") {
  CHECK(path_of_error("{") == "");
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
  CHECK(
      path_of_error(R"({"nodes": {"a": {"http": "127.0.0.1:1", "capabilities": ["gateway"]}}})") ==
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
  // a remote dependency needs a listen address on the node that hosts it
  CHECK(path_of_error(R"({"nodes": {"a": {"http": "127.0.0.1:1", "capabilities": ["gateway"]},
                                     "b": {"capabilities": ["users"]}}})") == "/nodes/b/listen");
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
  CHECK(path_of_error(with_settings(R"({"users": {"x": 9}, "gateway": {}})")) == "(accepted)");
}

TEST_CASE("port 0 never counts as a duplicate address") {
  CHECK_NOTHROW(parse_topology(R"({"nodes": {"a": {"http": "127.0.0.1:0", "admin": "127.0.0.1:0",
                                  "capabilities": ["gateway", "users"]}}})",
                               "t", known));
}

TEST_CASE("addresses parse as host:port") {
  CHECK(parse_address("127.0.0.1:80")->port == 80);
  CHECK(parse_address("localhost:0")->host == "localhost");
  CHECK_FALSE(parse_address("127.0.0.1"));
  CHECK_FALSE(parse_address(":80"));
  CHECK_FALSE(parse_address("h:"));
  CHECK_FALSE(parse_address("h:-1"));
  CHECK_FALSE(parse_address("h:65536"));
}
