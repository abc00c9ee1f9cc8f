// CORS at the gateway, as a browser speaks it: preflights answered from the route table
// without a token, refused for origins, methods and headers not allowed, and the allowed
// origin named on every answer (errors included) so a page can read them.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;

namespace {

const std::string shop = "https://shop.example";

http_result preflight(http_client& http, const std::string& path, const std::string& origin,
                      const std::string& method, const std::string& headers = {}) {
  std::vector<std::pair<std::string, std::string>> h{{"Origin", origin},
                                                     {"Access-Control-Request-Method", method}};
  if (!headers.empty()) h.emplace_back("Access-Control-Request-Headers", headers);
  return http.request("OPTIONS", path, {}, std::move(h));
}

bool has(const std::string& list, const std::string& item) {
  return list.find(item) != std::string::npos;
}

}  // namespace

TEST_CASE("preflights are answered from the route table, without a token") {
  temp_dir dir;
  cluster c{dir, one_node_plan(),
            R"("gateway": {"cors": {"allowed_origins": ["https://shop.example",
                                                        "http://localhost:3000"]}})"};
  http_client http{c.http()};
  http.use_token("");  // browsers send none with a preflight

  auto ok =
      preflight(http, "/api/orders", shop, "POST", "authorization, Content-Type,idempotency-key");
  INFO(ok.body);
  CHECK(ok.status == 204);
  CHECK(ok.headers["access-control-allow-origin"] == shop);
  CHECK(has(ok.headers["access-control-allow-methods"], "POST"));
  CHECK(has(ok.headers["access-control-allow-methods"], "GET"));
  CHECK(has(ok.headers["access-control-allow-headers"], "Authorization"));
  CHECK(ok.headers["access-control-max-age"] == "600");
  CHECK(has(ok.headers["vary"], "Origin"));
  CHECK(has(ok.headers["vary"], "Access-Control-Request-Method"));
  CHECK(ok.headers["x-content-type-options"] == "nosniff");
  CHECK(ok.headers.count("access-control-allow-credentials") == 0);
  // A path with a parameter; the second origin.
  auto item = preflight(http, "/api/inventory/sku-1", "http://localhost:3000", "PUT");
  CHECK(item.status == 204);
  CHECK(item.headers["access-control-allow-origin"] == "http://localhost:3000");

  // Refusals: 403 with the JSON error, so the browser stops there.
  // (For an allowed origin the answer names it, as every answer does; a preflight that is
  // not 2xx fails in the browser whatever it carries.)
  auto refused = [&](http_result r, const std::string& says) {
    INFO(r.body);
    CHECK(r.status == 403);
    CHECK(r.headers.count("access-control-allow-methods") == 0);
    if (says == "origin") CHECK(r.headers.count("access-control-allow-origin") == 0);
    auto body = json::parse(r.body);
    CHECK(body["error"]["code"] == "forbidden");
    CHECK(has(body["error"]["message"].get<std::string>(), says));
  };
  refused(preflight(http, "/api/orders", "https://evil.example", "POST"), "origin");
  refused(preflight(http, "/api/orders", "https://shop.example.evil.example", "POST"), "origin");
  refused(preflight(http, "/api/orders", "null", "POST"), "origin");
  refused(preflight(http, "/api/orders", shop, "DELETE"), "this path takes");
  refused(preflight(http, "/api/orders", shop, "POST", "authorization, x-smuggle"), "x-smuggle");
  std::string many;
  for (int i = 0; i < 40; ++i) many += "accept,";
  refused(preflight(http, "/api/orders", shop, "GET", many), "more than 32");
  auto nowhere = preflight(http, "/api/nowhere", shop, "GET");
  CHECK(nowhere.status == 404);
  // An OPTIONS that is no preflight is what it was: 405 with Allow.
  auto bare = http.request("OPTIONS", "/api/orders");
  CHECK(bare.status == 405);
  CHECK(has(bare.headers["allow"], "POST"));
}

TEST_CASE("answers to an allowed origin name it, errors included; others' do not") {
  temp_dir dir;
  cluster c{dir, one_node_plan(),
            R"("gateway": {"cors": {"allowed_origins": ["https://shop.example"],
                                    "allow_credentials": true, "max_age_s": 60}})"};
  http_client http{c.http()};
  auto stats = http.request("GET", "/api/orders/stats", {}, {{"Origin", shop}});
  CHECK(stats.status == 200);
  CHECK(stats.headers["access-control-allow-origin"] == shop);
  CHECK(stats.headers["access-control-allow-credentials"] == "true");
  CHECK(has(stats.headers["access-control-expose-headers"], "RateLimit-Remaining"));
  CHECK(has(stats.headers["access-control-expose-headers"], "X-Request-Id"));
  CHECK(stats.headers["vary"] == "Origin");
  // A page must be able to read why it was refused.
  auto anonymous =
      http.request("GET", "/api/orders/stats", {}, {{"Origin", shop}, {"Authorization", ""}});
  CHECK(anonymous.status == 401);
  CHECK(anonymous.headers["access-control-allow-origin"] == shop);
  auto too_big = http.request("POST", "/api/orders", std::string(2 << 20, 'x'),
                              {{"Origin", shop}, {"Content-Type", "application/json"}});
  CHECK(too_big.status == 413);
  CHECK(too_big.headers["access-control-allow-origin"] == shop);
  // Another origin: served (CORS binds browsers, not servers) but not named, so its page
  // cannot read the answer.
  auto other = http.request("GET", "/api/orders/stats", {}, {{"Origin", "https://evil.example"}});
  CHECK(other.status == 200);
  CHECK(other.headers.count("access-control-allow-origin") == 0);
  CHECK(other.headers["vary"] == "Origin");
  auto preflight_cached = preflight(http, "/api/orders", shop, "POST");
  CHECK(preflight_cached.headers["access-control-max-age"] == "60");
}

TEST_CASE("without allowed origins there is no CORS: no headers, OPTIONS is 405") {
  temp_dir dir;
  cluster c{dir, one_node_plan()};
  http_client http{c.http()};
  auto stats = http.request("GET", "/api/orders/stats", {}, {{"Origin", shop}});
  CHECK(stats.status == 200);
  CHECK(stats.headers.count("access-control-allow-origin") == 0);
  CHECK(stats.headers.count("vary") == 0);
  auto asked = preflight(http, "/api/orders", shop, "POST");
  CHECK(asked.status == 405);
  CHECK(asked.headers.count("access-control-allow-origin") == 0);
}
