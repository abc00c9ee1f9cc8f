// Overload: a capability that can serve about 50 reads a second (a failpoint makes each read
// take 20 ms) gets 64 clients at once. Work that waited longer than its queue bound is shed
// with 503 + Retry-After, so what is accepted stays fast, memory stays flat, and service is
// normal again as soon as the load drops.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

long rss_kb(pid_t pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

struct outcome {
  std::vector<double> accepted_ms;
  long shed = 0, other = 0, without_retry_after = 0;
};

// `clients` loops of GET /api/users/ann until `until`.
outcome hammer(const std::string& where, int clients, std::chrono::steady_clock::time_point until) {
  std::vector<std::future<outcome>> running;
  for (int c = 0; c < clients; ++c)
    running.push_back(std::async(std::launch::async, [where, until] {
      http_client api{where};
      outcome o;
      while (std::chrono::steady_clock::now() < until) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = api.get("/api/users/ann");
        auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                      .count();
        if (r.status == 200) {
          o.accepted_ms.push_back(ms);
        } else if (r.status == 503) {
          ++o.shed;
          if (!r.headers.count("retry-after")) ++o.without_retry_after;
        } else {
          ++o.other;
        }
      }
      return o;
    }));
  outcome all;
  for (auto& f : running) {
    auto o = f.get();
    all.accepted_ms.insert(all.accepted_ms.end(), o.accepted_ms.begin(), o.accepted_ms.end());
    all.shed += o.shed;
    all.other += o.other;
    all.without_retry_after += o.without_retry_after;
  }
  std::sort(all.accepted_ms.begin(), all.accepted_ms.end());
  return all;
}

double p99(const outcome& o) {
  if (o.accepted_ms.empty()) return 0;
  return o.accepted_ms[static_cast<std::size_t>(0.99 * (o.accepted_ms.size() - 1))];
}

}  // namespace

TEST_CASE("past its capacity a capability sheds load: accepted work stays fast, memory flat") {
  temp_dir dir;
  process_options slow_reads;
  slow_reads.env = {"TROUPE_FAILPOINTS=users.get=hang:20"};
  cluster c{dir,
            two_node_plan(),
            {},
            {{"core", slow_reads}},
            R"("calls": {"per_callee": {"users": {"max_queue_ms": 200}}})"};
  {
    http_client api{c.http()};
    REQUIRE(api.post_json("/api/users", R"({"id":"ann","name":"Ann","email":"ann@example.com"})")
                .status == 201);
  }
  auto core_pid = c.node("core").process().pid();
  auto rss_before = rss_kb(core_pid);

  // Within capacity: one client, everything served.
  auto calm = hammer(c.http(), 1, std::chrono::steady_clock::now() + 1s);
  CHECK(calm.shed == 0);
  CHECK(calm.other == 0);
  auto capacity = calm.accepted_ms.size();  // reads in one second, one at a time

  // 64 clients at once for 4 s, sampling the node's memory meanwhile.
  std::atomic<bool> done{false};
  long rss_peak = rss_before;
  std::thread sampler([&] {
    while (!done) {
      rss_peak = std::max(rss_peak, rss_kb(core_pid));
      std::this_thread::sleep_for(50ms);  // a sampling period, not a wait for an outcome
    }
  });
  auto storm = hammer(c.http(), 64, std::chrono::steady_clock::now() + 4s);
  done = true;
  sampler.join();
  std::printf(
      "overload: capacity ~%zu reads/s; under 64 clients %zu accepted (p99 %.0f ms), %ld shed, "
      "%ld other; core RSS %ld -> %ld KB\n",
      capacity, storm.accepted_ms.size(), p99(storm), storm.shed, storm.other, rss_before,
      rss_peak);
  CHECK(storm.shed > 0);                  // it did shed
  CHECK(storm.without_retry_after == 0);  // and said when to come back
  CHECK(storm.other == 0);                // no 504s: nothing waited for its deadline
  CHECK(p99(storm) < 600);  // queue bound 200 ms + a read, not the 1.3 s a full queue takes
  CHECK(storm.accepted_ms.size() >= capacity * 2);  // the capability kept working meanwhile
  CHECK(rss_peak - rss_before < 64 * 1024);         // bounded queues: no growth to speak of
  // Every 503 was counted where it was shed: at the users front (core) or, when the gateway's
  // workers fell behind, at the gateway (edge).
  auto shed_at = [](troupe_node& n, const std::string& capability) {
    return std::max(0.0, metric_value(n.admin(), "requests_shed_total{capability=\"" + capability +
                                                     "\",reason=\"queue_time\"}"));
  };
  auto users_shed = shed_at(c.node("core"), "users");
  CHECK(users_shed > 0);
  CHECK(users_shed + shed_at(c.node("edge"), "gateway") == storm.shed);

  // The load is gone: served again at once, not after a backlog drains.
  auto after = hammer(c.http(), 1, std::chrono::steady_clock::now() + 500ms);
  CHECK(after.shed == 0);
  CHECK(after.other == 0);
  CHECK(p99(after) < 100);
}
