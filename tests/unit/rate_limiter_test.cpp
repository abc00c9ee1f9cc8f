// Token buckets: refill, bounds on memory, and who counts as the client.
#include <catch2/catch.hpp>

#include "runtime/security/rate_limiter.hpp"

using namespace troupe::security;
using namespace std::chrono_literals;

TEST_CASE("a bucket lets a burst of its size through, then refills at requests per window") {
  rate_limiter limiter;
  rate_limit ten_a_minute{10, 60s};
  auto t0 = rate_limiter::clock::time_point{} + 1000s;
  for (int i = 0; i < 10; ++i) {
    auto d = limiter.take("alice", ten_a_minute, t0);
    REQUIRE(d.allowed);
    CHECK(d.limit == 10);
    CHECK(d.remaining == 9 - i);
  }
  auto refused = limiter.take("alice", ten_a_minute, t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.remaining == 0);
  CHECK(refused.retry_after_s == 6);  // one token every 6 s
  CHECK(refused.reset_s == 60);
  CHECK(limiter.take("bob", ten_a_minute, t0).allowed);  // buckets are per key
  CHECK_FALSE(limiter.take("alice", ten_a_minute, t0 + 5s).allowed);
  auto back = limiter.take("alice", ten_a_minute, t0 + 6s);
  CHECK(back.allowed);
  CHECK(back.remaining == 0);
  // Over a long run the accepted count follows the rate, whatever is offered.
  int accepted = 0;
  for (int ms = 0; ms < 600'000; ms += 100)  // 10 requests a second for 10 minutes
    accepted += limiter.take("carol", ten_a_minute, t0 + std::chrono::milliseconds{ms}).allowed;
  CHECK(accepted >= 10 + 99);  // the burst, then one every 6 s
  CHECK(accepted <= 10 + 101);
}

TEST_CASE("the number of buckets stays under its bound, and refilled buckets go first") {
  rate_limiter limiter{1600};
  rate_limit limit{5, 10s};
  auto t0 = rate_limiter::clock::time_point{} + 1000s;
  for (int i = 0; i < 100'000; ++i) limiter.take("client-" + std::to_string(i), limit, t0);
  CHECK(limiter.buckets() <= limiter.max_buckets());
  CHECK(limiter.max_buckets() == 1600);
  // Once the flood's buckets have refilled, they make room first: a bucket in use survives.
  for (int i = 0; i < 5; ++i) CHECK(limiter.take("busy", limit, t0 + 20s).allowed);
  for (int i = 0; i < 1000; ++i) limiter.take("new-" + std::to_string(i), limit, t0 + 20s);
  CHECK(limiter.buckets() <= limiter.max_buckets());
  CHECK_FALSE(limiter.take("busy", limit, t0 + 20s).allowed);
}

TEST_CASE("the client is the peer unless a trusted proxy forwarded the request") {
  std::vector<std::string> proxies{"10.0.0.1", "10.0.0.2"};
  CHECK(client_of("203.0.113.9", "", proxies) == "203.0.113.9");
  // An untrusted peer's X-Forwarded-For is whatever it wrote: ignored.
  CHECK(client_of("203.0.113.9", "198.51.100.1", proxies) == "203.0.113.9");
  // Through our proxies: the right-most address that is not one of them.
  CHECK(client_of("10.0.0.1", "198.51.100.1", proxies) == "198.51.100.1");
  CHECK(client_of("10.0.0.1", "1.2.3.4, 198.51.100.1, 10.0.0.2", proxies) == "198.51.100.1");
  CHECK(client_of("10.0.0.1", "2001:db8::1", proxies) == "2001:db8::1");
  // Garbage or only proxies: the peer.
  CHECK(client_of("10.0.0.1", "<script>", proxies) == "10.0.0.1");
  CHECK(client_of("10.0.0.1", "10.0.0.2", proxies) == "10.0.0.1");
  CHECK(client_of("10.0.0.1", std::string(2000, '1'), proxies) == "10.0.0.1");
  // A long list: its last hops still count.
  CHECK(client_of("10.0.0.1", std::string(3000, ' ') + ",198.51.100.1", proxies) == "198.51.100.1");
}
