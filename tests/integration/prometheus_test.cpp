// /metrics as Prometheus sees it: every node of the three-node shop passes `promtool check
// metrics` after real traffic, carries the series operators need (HTTP by route template,
// orders by status, calls by callee and outcome, sagas, group commits), and a real Prometheus
// server scrapes all three with an admin token and answers queries over them.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/shop.hpp"

using namespace troupe::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string admin_secret = "admin-secret-for-prometheus-0123456789-abcdefghij";

std::string percent_encoded(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// The value of `series` (its name and labels exactly as exposed), or -1 when absent.
double value_of(const std::string& exposition, const std::string& series) {
  auto at = exposition.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(exposition.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("every node's /metrics passes promtool, and a real Prometheus scrapes all three") {
  REQUIRE(::access("/usr/bin/promtool", X_OK) == 0);  // deploy/install-deps.sh installs it
  REQUIRE(::access("/usr/bin/prometheus", X_OK) == 0);
  temp_dir dir;
  process_options env;
  env.env.push_back("TEST_ADMIN_SECRET=" + admin_secret);
  cluster c{dir,
            three_node_plan(),
            {},
            {{"edge", env}, {"shop", env}, {"stock", env}},
            R"("admin": {"auth": {"secret_env": "TEST_ADMIN_SECRET"}})"};

  // Traffic: one order confirmed, one cancelled (out of stock), a 404, a 401.
  shop_client shop{c.http()};
  REQUIRE(shop.create_user("u-1", "Ann").status == 201);
  REQUIRE(shop.set_stock("A", 10, 1500).status == 200);
  REQUIRE(shop.place("u-1", {{"A", 2}}).status == 201);
  REQUIRE(shop.place("u-1", {{"A", 50}}).status == 409);
  CHECK(shop.http().get("/api/users/nobody").status == 404);
  http_client anonymous{c.http()};
  anonymous.use_token("");
  CHECK(anonymous.get("/api/orders/stats").status == 401);

  // A scraper's token, minted as an operator would.
  auto minted = run_command({"/usr/bin/env", "TEST_ADMIN_SECRET=" + admin_secret, troupe_binary(),
                             "token", "--admin", "--topology", c.topology_file(), "--sub",
                             "prometheus", "--scope", "metrics:read", "--ttl", "1h"},
                            30s);
  REQUIRE(minted.status == 0);
  auto token = minted.out.substr(0, minted.out.find('\n'));
  dir.write("scrape-token", token);
  ::chmod(dir.file("scrape-token").c_str(), 0600);

  std::map<std::string, std::string> exposition;
  for (auto node : {"edge", "shop", "stock"}) {
    http_client admin{c.node(node).admin()};
    admin.use_token(token);
    // The shop's counters move when its sagas end, just after the client's answer.
    std::string text;
    eventually(
        [&] {
          text = admin.get("/metrics").body;
          return std::string(node) != "shop" ||
                 value_of(text, "orders_processed_total{status=\"cancelled\"}") == 1;
        },
        10s);
    exposition[node] = text;
    dir.write(std::string(node) + ".prom", text);
    auto checked =
        run_command({"/bin/sh", "-c",
                     "/usr/bin/promtool check metrics < " + dir.file(std::string(node) + ".prom")},
                    30s);
    INFO(node << ": " << checked.out << checked.err);
    CHECK(checked.status == 0);
    CHECK(checked.out + checked.err == "");
  }
  auto& edge = exposition["edge"];
  auto& core = exposition["shop"];
  auto& stock = exposition["stock"];
  CHECK(value_of(edge,
                 "http_request_duration_seconds_count{method=\"POST\",route=\"/api/"
                 "orders\",status_code=\"201\"}") == 1);
  CHECK(value_of(edge,
                 "http_request_duration_seconds_count{method=\"POST\",route=\"/api/"
                 "orders\",status_code=\"409\"}") == 1);
  CHECK(value_of(edge,
                 "http_requests_total{method=\"GET\",route=\"/api/users/"
                 "{id}\",status_code=\"404\"}") == 1);
  CHECK(value_of(edge, "capability_calls_total{callee=\"orders\",outcome=\"ok\"}") >= 1);
  CHECK(value_of(edge, "capability_call_duration_seconds_count{callee=\"orders\"}") >= 2);
  CHECK(value_of(core, "orders_processed_total{status=\"confirmed\"}") == 1);
  CHECK(value_of(core, "orders_processed_total{status=\"cancelled\"}") == 1);
  CHECK(value_of(core,
                 "saga_duration_seconds_count{definition=\"place-order\",outcome="
                 "\"completed\"}") == 1);
  CHECK(value_of(core,
                 "saga_duration_seconds_count{definition=\"place-order\",outcome="
                 "\"compensated\"}") == 1);
  // The reservation refused for want of stock is an answer with an error, not a failure.
  CHECK(value_of(core, "capability_calls_total{callee=\"inventory\",outcome=\"error\"}") >= 1);
  CHECK(value_of(core, "capability_calls_total{callee=\"inventory\",outcome=\"no_answer\"}") == 0);
  CHECK(value_of(core, "sqlite_commit_duration_seconds_count{database=\"orders.db\"}") >= 1);
  CHECK(value_of(core, "sqlite_commit_batch_size_count{database=\"users.db\"}") >= 1);
  CHECK(value_of(stock, "sqlite_commit_batch_size_count{database=\"inventory.db\"}") >= 1);
  CHECK(value_of(stock, "sqlite_commit_batch_size_sum{database=\"payments.db\"}") >= 1);
  // Each capability's front mailbox, as of its last message (idle now: nothing waits).
  CHECK(value_of(core, "capability_mailbox_depth{capability=\"orders\"}") == 0);
  CHECK(value_of(stock, "capability_mailbox_depth{capability=\"inventory\"}") == 0);

  // A real Prometheus, scraping every node's admin listener each second with the token.
  auto port = free_port();
  std::string targets;
  for (auto node : {"edge", "shop", "stock"})
    targets += std::string(targets.empty() ? "" : ", ") + "'" + c.node(node).admin() + "'";
  dir.write("prometheus.yml",
            "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: troupe\n"
            "    authorization: {type: Bearer, credentials_file: '" +
                dir.file("scrape-token") +
                "'}\n"
                "    static_configs:\n"
                "      - targets: [" +
                targets + "]\n");
  child_process prometheus{{"/usr/bin/prometheus", "--config.file=" + dir.file("prometheus.yml"),
                            "--storage.tsdb.path=" + dir.file("tsdb"),
                            "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                           dir.path(),
                           dir.file("prometheus")};
  http_client api{"127.0.0.1:" + std::to_string(port)};
  api.use_token("");
  auto query = [&](const std::string& promql) {
    try {
      auto r = api.get("/api/v1/query?query=" + percent_encoded(promql));
      auto body = json::parse(r.body, nullptr, false);
      if (body.is_discarded() || body.value("status", "") != "success") return json::array();
      return body["data"]["result"];
    } catch (const std::exception&) {
      return json::array();  // not listening yet
    }
  };
  auto scalar = [&](const std::string& promql) {
    auto result = query(promql);
    return result.size() == 1 ? std::stod(result[0]["value"][1].get<std::string>()) : -1.0;
  };
  bool all_up = eventually([&] { return scalar("count(up == 1)") == 3; }, 60s, 200ms);
  INFO(prometheus.err());
  REQUIRE(all_up);
  CHECK(scalar("count(up == 0)") == -1);  // no series: none down
  CHECK(eventually([&] { return scalar("sum(orders_processed_total)") == 2; }, 30s, 200ms));
  // Every capability of the shop, on whichever node hosts it.
  CHECK(scalar("count(capability_up == 1)") == 5);
  CHECK(scalar("count(count by (instance) (capability_up))") == 3);
  CHECK(scalar("sum(http_requests_total{route=\"/api/orders\"})") == 2);
}
