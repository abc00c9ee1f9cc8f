// SIGTERM drains: /ready turns 503 at once, a request already received still gets its
// answer, running sagas finish within the drain deadline (or resume after the restart when
// cut off), and the node exits 0 afterwards.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <future>
#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/shop.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("a node asked to stop answers the requests it already has before it exits") {
  temp_dir dir;
  two_node_cluster cluster{dir, R"("gateway": {"request_timeout_ms": 1500})"};
  auto& core = cluster.core();
  auto& edge = cluster.edge();
  http_client admin{edge.admin()};

  // Hold a request in flight: the users node is frozen, so it waits for its deadline.
  core.process().signal(SIGSTOP);
  auto pending = std::async(std::launch::async, [where = edge.http()] {
    http_client api{where};
    try {
      return api.get("/api/users/anyone").status;
    } catch (const std::exception&) {
      return -1;  // the connection was cut instead of answered
    }
  });
  REQUIRE(eventually([&] { return gateway_calls_in_flight(edge.admin()) == 1; }, 5s));

  edge.process().signal(SIGTERM);
  CHECK(eventually(
      [&] {
        try {
          auto ready = admin.get("/ready");
          return ready.status == 503 && ready.body.find("shutting down") != std::string::npos;
        } catch (const std::exception&) {
          return false;
        }
      },
      1s));
  CHECK(pending.get() == 504);  // answered at its deadline, not reset
  CHECK(edge.process().wait(10s) == 0);
  core.process().signal(SIGCONT);
  CHECK(core.stop() == 0);
}

namespace {

// Alice, and `units` of A at 250 each.
void open_shop(shop_client& shop, long units) {
  REQUIRE(shop.create_user("alice", "Alice").status == 201);
  REQUIRE(shop.set_stock("A", units, 250).status == 200);
}

// Places `count` orders at once, each one unit of A for alice; their HTTP statuses and bodies.
std::vector<std::future<http_result>> place_many(const std::string& where, int count) {
  std::vector<std::future<http_result>> out;
  for (int i = 0; i < count; ++i)
    out.push_back(std::async(std::launch::async, [where] {
      shop_client shop{where};
      return shop.place("alice", {{"A", 1}});
    }));
  return out;
}

// Sagas the orders node at `admin` has started and not finished: what a drain waits for
// (an order still on its way to orders is refused by the drain instead).
std::size_t running_sagas(const std::string& admin) {
  http_client client{admin};
  auto page = json::parse(client.get("/sagas?state=running").body, nullptr, false);
  return page.is_object() && page["sagas"].is_array() ? page["sagas"].size() : 0;
}

}  // namespace

TEST_CASE("SIGTERM on the orders node lets the running sagas finish, then exits 0") {
  temp_dir dir;
  // The card processor takes 400 ms: sagas are in flight when the signal comes.
  cluster c{dir, three_node_plan(), R"("payments": {"latency_ms": 400})"};
  shop_client shop{c.http()};
  open_shop(shop, 100);
  auto orders = place_many(c.http(), 8);
  REQUIRE(eventually([&] { return running_sagas(c.node("shop").admin()) == 8; }, 5s, 1ms));
  auto t0 = std::chrono::steady_clock::now();
  auto stopped = c.stop("shop");
  INFO(c.stderr_of("shop"));
  CHECK(stopped == 0);
  auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
  std::vector<std::string> ids;
  for (auto& f : orders) {
    auto r = f.get();
    INFO(r.body);
    CHECK(r.status == 201);  // none failed: each saga finished before the node went
    if (r.status == 201) ids.push_back(json::parse(r.body)["id"].get<std::string>());
  }
  std::printf("orders node drained 8 running sagas and stopped in %.0f ms\n", took.count());
  // Only capabilities with long-running work are asked to drain: no actor is sent a
  // message it does not know (CAF would print "unexpected message").
  CHECK(c.stderr_of("shop").find("unexpected message") == std::string::npos);
  c.start("shop");
  auto problems = shop_invariants(shop, {{"A", 100}}, ids, c.data_dir() + "/stock/payments.db");
  for (auto& p : problems) FAIL_CHECK(p);
  http_client admin{c.node("shop").admin()};
  CHECK(json::parse(admin.get("/sagas?state=running").body)["sagas"].empty());
}

TEST_CASE("sagas cut off at the drain deadline resume after the restart and end final") {
  temp_dir dir;
  // Each charge takes 1.5 s; the shop node may drain for 100 ms only.
  cluster c{dir,
            three_node_plan(),
            R"("payments": {"latency_ms": 1500})",
            {},
            R"("cluster": {"drain_ms": 100})"};
  shop_client shop{c.http()};
  open_shop(shop, 100);
  auto orders = place_many(c.http(), 4);
  REQUIRE(eventually([&] { return running_sagas(c.node("shop").admin()) == 4; }, 5s, 1ms));
  auto stopped = c.stop("shop");
  INFO(c.stderr_of("shop"));
  CHECK(stopped == 0);
  for (auto& f : orders) CHECK(f.get().status != 201);  // their node went before they finished
  c.start("shop");  // ready only once every resumed saga is final
  http_client admin{c.node("shop").admin()};
  auto all = json::parse(admin.get("/sagas?limit=100").body)["sagas"];
  std::vector<std::string> ids;
  for (auto& s : all) {
    CHECK(s["state"] == "done");
    auto one = json::parse(admin.get("/sagas/" + s["id"].get<std::string>()).body);
    ids.push_back(one["data"]["order_id"].get<std::string>());
  }
  CHECK(ids.size() == 4);
  auto problems = shop_invariants(shop, {{"A", 100}}, ids, c.data_dir() + "/stock/payments.db");
  for (auto& p : problems) FAIL_CHECK(p);
}

namespace {

struct attempt {
  std::chrono::steady_clock::time_point sent, answered;
  http_result result;
};

// `clients` loops placing one-unit orders of A for alice until `stop`.
std::vector<std::future<std::vector<attempt>>> keep_ordering(const std::string& where, int clients,
                                                             std::atomic<bool>& stop,
                                                             std::atomic<int>& answered) {
  std::vector<std::future<std::vector<attempt>>> out;
  for (int i = 0; i < clients; ++i)
    out.push_back(std::async(std::launch::async, [where, &stop, &answered] {
      shop_client shop{where};
      std::vector<attempt> mine;
      while (!stop) {
        attempt a;
        a.sent = std::chrono::steady_clock::now();
        a.result = shop.place("alice", {{"A", 1}});
        a.answered = std::chrono::steady_clock::now();
        mine.push_back(std::move(a));
        ++answered;
      }
      return mine;
    }));
  return out;
}

}  // namespace

TEST_CASE("SIGTERM under sustained load: every order accepted before it completes") {
  temp_dir dir;
  // Each charge takes 100 ms, so about as many sagas as clients are running at any time.
  cluster c{dir, three_node_plan(), R"("payments": {"latency_ms": 100})"};
  shop_client shop{c.http()};
  open_shop(shop, 100000);

  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  auto clients = keep_ordering(c.http(), 6, stop, answered);
  REQUIRE(eventually([&] { return answered >= 30; }, 10s));
  auto term = std::chrono::steady_clock::now();
  auto status = c.stop("shop");  // SIGTERM, then waits for the exit
  auto gone = std::chrono::steady_clock::now();
  // Keep the load on a while after the node went: those are refused, never left hanging.
  auto seen = answered.load();
  CHECK(eventually([&] { return answered >= seen + 12; }, 10s));
  stop = true;
  std::vector<attempt> all;
  for (auto& f : clients) {
    auto mine = f.get();
    all.insert(all.end(), mine.begin(), mine.end());
  }
  {
    INFO("shop's stderr:\n" << c.stderr_of("shop"));
    CHECK(status == 0);
  }

  std::vector<std::string> confirmed;
  int completed_during_drain = 0, refused = 0;
  for (auto& a : all) {
    auto ms = [&](std::chrono::steady_clock::time_point t) {
      return std::chrono::duration<double, std::milli>(t - term).count();
    };
    INFO(a.result.status << " " << a.result.body << " sent at " << ms(a.sent) << " ms, answered at "
                         << ms(a.answered) << " ms, the node gone at " << ms(gone) << " ms");
    if (a.result.status == 201) {
      confirmed.push_back(json::parse(a.result.body)["id"].get<std::string>());
      if (a.sent < term && a.answered > term) ++completed_during_drain;
    } else {
      // The rest were refused at once, before anything was done, with a time to come back:
      // by orders while it drained, or by the gateway once the node had gone.
      CHECK(a.result.status == 503);
      CHECK(a.result.headers.count("retry-after") == 1);
      CHECK(a.answered - a.sent < 1s);
      ++refused;
    }
  }
  std::printf(
      "SIGTERM under load: the orders node exited %d after %.0f ms; %d orders running at the "
      "signal completed during the drain, %zu confirmed in all, %d refused with 503\n",
      status, std::chrono::duration<double, std::milli>(gone - term).count(),
      completed_during_drain, confirmed.size(), refused);
  CHECK(completed_during_drain > 0);  // sagas were running when the signal came, and finished
  CHECK(gone - term < 10s);           // within the drain deadline (cluster.drain_ms)
  CHECK(refused > 0);

  // After the restart: a saga for every confirmed order and no other, all final.
  c.start("shop");
  http_client admin{c.node("shop").admin()};
  auto sagas = json::parse(admin.get("/sagas?limit=1000").body)["sagas"];
  CHECK(sagas.size() == confirmed.size());
  for (auto& s : sagas) CHECK(s["state"] == "done");
  auto problems =
      shop_invariants(shop, {{"A", 100000}}, confirmed, c.data_dir() + "/stock/payments.db");
  for (auto& p : problems) FAIL_CHECK(p);
}
