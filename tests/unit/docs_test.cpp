// The reference cannot drift from the code: every topology key the code reads is in
// docs/topology.md, and every key written there is one the code reads. (Metrics:
// tests/integration/docs_test.cpp.)
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "actors/shop/shop.hpp"
#include "runtime/core/settings.hpp"
#include "runtime/node/topology.hpp"
#include "tests/support/process.hpp"

using namespace troupe;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first cells of the reference's tables that are paths: "`/http/max_connections`".
std::set<std::string> documented_paths() {
  std::set<std::string> out;
  std::istringstream in{read_file(test::source_dir() + "/docs/topology.md")};
  std::string line;
  std::regex row{R"(^\| `(/[^`]*)` \|)"};
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, row)) out.insert(m[1]);
  return out;
}

// Names the user chooses become the reference's placeholders.
std::string as_documented(std::string path) {
  static const std::pair<std::regex, const char*> rules[] = {
      {std::regex{R"(^/nodes/[^/]+)"}, "/nodes/{node}"},
      {std::regex{R"(^/capabilities/[^/]+/supervision)"}, "/capabilities/{capability}/supervision"},
      {std::regex{R"(^/calls/per_callee/[^/]+)"}, "/calls/per_callee/{capability}"},
      {std::regex{R"(^/http/route_timeouts_ms/[^/]+)"}, "/http/route_timeouts_ms/{route}"},
      {std::regex{R"(^/capabilities/gateway/rate_limit/routes/[^/]+)"},
       "/capabilities/gateway/rate_limit/routes/{route}"},
  };
  for (auto& [pattern, replacement] : rules) path = std::regex_replace(path, pattern, replacement);
  return path;
}

// A topology with every section and every map that takes names.
constexpr const char* every_section = R"({
  "name": "shop", "data_dir": "var",
  "logs": {"level": "warn"}, "tracing": {"exporter": "file", "file": "t.jsonl"},
  "admin": {"auth": {"secret_env": "ADMIN_SECRET"}},
  "security": {"tls": {"certificate_file": "c", "key_file": "k", "ca_file": "ca"}},
  "permissions": {"inventory": {"orders": ["reserve_stock"]}},
  "http": {"route_timeouts_ms": {"POST /api/orders": 9000}},
  "health": {}, "cluster": {},
  "calls": {"per_callee": {"users": {"breaker": {}}}},
  "nodes": {
    "edge": {"http": "0.0.0.0:8080", "admin": "9101", "listen": "127.0.0.1:7001",
             "failpoints": "", "capabilities": ["gateway"]},
    "shop": {"listen": "127.0.0.1:7002", "capabilities": ["users", "orders", "inventory", "payments"]}
  },
  "capabilities": {
    "users": {"supervision": {}},
    "gateway": {"auth": {"secret_env": "JWT_SECRET"},
                "rate_limit": {"routes": {"POST /api/orders": {"requests": 10}}}}
  }
})";

std::set<std::string> paths_the_code_reads() {
  std::vector<std::string> read;
  {
    setting_paths_recorder recording{read};
    parse_topology(every_section, "every-section", shop::capabilities());
  }
  std::set<std::string> out;
  for (auto& path : read) out.insert(as_documented(path));
  return out;
}

}  // namespace

TEST_CASE("every topology key the code reads is in docs/topology.md") {
  auto documented = documented_paths();
  auto read = paths_the_code_reads();
  REQUIRE(read.size() > 100);
  for (auto& path : read) {
    INFO("read by the code, missing from docs/topology.md: " << path);
    CHECK(documented.count(path) == 1);
  }
}

TEST_CASE("every key docs/topology.md lists is one the code reads") {
  auto read = paths_the_code_reads();
  // Maps keyed by names the user chooses: the code reads their entries, not fixed keys.
  const std::set<std::string> maps = {"/nodes/{node}", "/capabilities/{capability}",
                                      "/permissions/{capability}",
                                      "/permissions/{capability}/{caller}"};
  for (auto& path : documented_paths()) {
    INFO("in docs/topology.md, but no code reads it: " << path);
    bool known = read.count(path) || maps.count(path);
    for (auto& r : read) known = known || r.rfind(path + "/", 0) == 0;  // an object of keys
    CHECK(known);
  }
}
