// The reference cannot drift from the code: every metric family a node exports, with the
// shop at work, is in docs/operations.md. (Topology keys: tests/unit/docs_test.cpp.)
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/shop.hpp"

using namespace troupe::test;

TEST_CASE("every metric a node exports is in docs/operations.md") {
  std::ifstream in{source_dir() + "/docs/operations.md"};
  REQUIRE(in);
  std::set<std::string> documented;
  std::regex row{R"(^\| `([a-z_]+)` \|)"};
  std::smatch m;
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, m, row)) documented.insert(m[1]);

  temp_dir dir;
  cluster c{dir, one_node_plan()};
  // Work that touches every part: a confirmed and a refused order (sagas, events, stores,
  // calls, read model).
  shop_client shop{c.http()};
  REQUIRE(shop.create_user("u-1", "Una").status == 201);
  REQUIRE(shop.set_stock("A", 5, 100).status == 200);
  REQUIRE(shop.place("u-1", {{"A", 1}}).status == 201);
  REQUIRE(shop.place("u-1", {{"A", 50}}).status == 409);

  http_client admin{c.node("dev").admin()};
  auto text = admin.get("/metrics").body;
  std::set<std::string> exported;
  std::regex type_line{R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) )"};
  std::istringstream lines{text};
  for (std::string line; std::getline(lines, line);)
    if (std::regex_search(line, m, type_line)) exported.insert(m[1]);
  REQUIRE(exported.size() > 15);
  for (auto& name : exported) {
    INFO("exported, missing from docs/operations.md: " << name);
    CHECK(documented.count(name) == 1);
  }
}
