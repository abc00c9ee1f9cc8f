// Rate limits at the gateway, from outside: a client far over its limit, spoofed
// X-Forwarded-For, trusted proxies, a per-route limit.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tests/support/auth.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

void check_rate_headers(const http_result& r) {
  CHECK(r.headers.count("ratelimit-limit") == 1);
  CHECK(r.headers.count("ratelimit-remaining") == 1);
  CHECK(r.headers.count("ratelimit-reset") == 1);
}

}  // namespace

TEST_CASE("at ten times the allowed rate, what is accepted stays within the bucket") {
  temp_dir dir;
  // 20 requests a second per client, with a burst of 20.
  cluster c{dir, one_node_plan(),
            R"("gateway": {"rate_limit": {"per_client": {"requests": 20, "window_s": 1}}})"};
  http_client http{c.http()};
  int accepted = 0, refused = 0;
  auto start = std::chrono::steady_clock::now();
  // 200 requests a second for 3 s, each sent at its scheduled time.
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_until(start + i * 5ms);
    auto r = http.request("GET", "/api/users/nobody", {},
                          {{"X-Forwarded-For", "198.51.100." + std::to_string(i % 250)}});
    INFO(r.status << " " << r.body);
    check_rate_headers(r);
    if (r.status == 429) {
      ++refused;
      REQUIRE(r.headers.count("retry-after") == 1);
      CHECK(std::stoi(r.headers["retry-after"]) >= 1);
      CHECK(json::parse(r.body)["error"]["code"] == "rate_limited");
      CHECK(r.headers["ratelimit-remaining"] == "0");
    } else {
      CHECK(r.status == 404);  // served: the user does not exist
      ++accepted;
    }
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("offered 600 in " << seconds << " s; accepted " << accepted << ", refused " << refused);
  // The burst, then 20 a second: never more, and a spoofed X-Forwarded-For from an untrusted
  // peer (the test's own address) made no bucket of its own.
  CHECK(accepted <= 20 + static_cast<int>(20 * seconds) + 1);
  CHECK(accepted >= static_cast<int>(20 * seconds * 0.8));
  CHECK(refused >= 600 - accepted);
}

TEST_CASE("behind a trusted proxy each forwarded client has its own bucket") {
  temp_dir dir;
  cluster c{dir, one_node_plan(),
            R"("gateway": {"rate_limit": {"per_client": {"requests": 3, "window_s": 3600},
                                          "trusted_proxies": ["127.0.0.1"]}})"};
  http_client http{c.http()};
  auto from = [&](const std::string& client) {
    return http.request("GET", "/api/users/nobody", {}, {{"X-Forwarded-For", client}}).status;
  };
  for (int i = 0; i < 3; ++i) CHECK(from("198.51.100.7") == 404);
  CHECK(from("198.51.100.7") == 429);
  CHECK(from("198.51.100.8") == 404);  // another client behind the same proxy
  // The proxy appends what it saw; what the client wrote on the left does not count.
  CHECK(from("1.1.1.1, 198.51.100.7") == 429);
  // The proxy itself, without the header, is a client like any other.
  for (int i = 0; i < 3; ++i) CHECK(http.get("/api/users/nobody").status == 404);
  CHECK(http.get("/api/users/nobody").status == 429);
}

TEST_CASE("a route's own limit, and the subject's, apply beside the client's") {
  temp_dir dir;
  cluster c{dir, one_node_plan(),
            R"("gateway": {"rate_limit": {"per_client": {"requests": 1000, "window_s": 60},
                                          "per_subject": {"requests": 6, "window_s": 3600},
                                          "routes": {"GET /api/inventory/{sku}":
                                                     {"requests": 2, "window_s": 3600}}}})"};
  http_client http{c.http()};
  http.use_token(test_token("alice"));
  CHECK(http.get("/api/inventory/A").status == 404);
  CHECK(http.get("/api/inventory/B").status == 404);
  auto third = http.get("/api/inventory/C");
  CHECK(third.status == 429);
  CHECK(third.headers["ratelimit-limit"] == "2");
  // Other routes still answer, until alice's own bucket (6) is empty: 2 taken above (the
  // refused third never reached authentication), 4 now.
  for (int i = 0; i < 4; ++i) CHECK(http.get("/api/users/alice").status == 404);
  auto over = http.get("/api/users/alice");
  CHECK(over.status == 429);
  CHECK(over.headers["ratelimit-limit"] == "6");
  // Bob is another subject with a bucket of his own.
  http.use_token(test_token("bob"));
  CHECK(http.get("/api/users/bob").status == 404);
}
