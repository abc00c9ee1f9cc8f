// Tracing as an OpenTelemetry user sees it: one W3C traceparent sent to the gateway of the
// three-node shop, and every span of the order it places (the HTTP request, each call, the
// saga, each step and compensation, each store transaction, on all three nodes) arrives at
// an OTLP/HTTP collector in that trace, each hanging under the right parent.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/otlp_receiver.hpp"
#include "tests/support/shop.hpp"

using namespace troupe::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string trace_a = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string trace_b = "0af7651916cd43dd8448eb211c80319c";
const std::string caller_span = "00f067aa0ba902b7";

std::string traceparent(const std::string& trace, const std::string& flags = "01") {
  return "00-" + trace + "-" + caller_span + "-" + flags;
}

http_result place_traced(http_client& http, const std::string& tp, long quantity,
                         const std::string& tracestate = {}) {
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"},
                                                           {"traceparent", tp}};
  if (!tracestate.empty()) headers.emplace_back("tracestate", tracestate);
  return http.request(
      "POST", "/api/orders",
      json{{"customer", "u-1"}, {"items", {{{"sku", "A"}, {"quantity", quantity}}}}}.dump(),
      headers);
}

// The span called `name`; "name#n": the n-th of that name.
const received_span* named(const std::vector<received_span>& spans, const std::string& name) {
  auto hash = name.find('#');
  auto wanted = hash == std::string::npos ? 1 : std::stoi(name.substr(hash + 1));
  auto plain = name.substr(0, hash);
  for (auto& s : spans)
    if (s.name == plain && --wanted == 0) return &s;
  return nullptr;
}

std::string describe(const std::vector<received_span>& spans) {
  std::ostringstream out;
  for (auto& s : spans)
    out << s.node << "/" << s.service << " " << s.name << " " << s.span_id << " <- "
        << s.parent_span_id << (s.error ? " ERROR " + s.status_message : "") << "\n";
  return out.str();
}

// Each node exports on its own: a trace is complete once the last span of each node is in
// (the gateway's request span, the saga's span, the last store transaction on stock).
bool has_all(const otlp_receiver& r, const std::string& trace,
             const std::vector<std::string>& names) {
  auto spans = r.spans_of(trace);
  for (auto& name : names)
    if (!named(spans, name)) return false;
  return true;
}

std::vector<std::string> last_of_each_node(int stock_transactions) {
  return {"POST /api/orders", "saga place-order",
          "sqlite inventory.db#" + std::to_string(stock_transactions)};
}

}  // namespace

TEST_CASE("one traceparent at the gateway: every span of the order, on three nodes, in its trace") {
  otlp_receiver collector;
  temp_dir dir;
  cluster c{dir,
            three_node_plan(),
            {},
            {},
            R"("tracing": {"exporter": "otlp", "endpoint": ")" + collector.endpoint() +
                R"(", "flush_interval_ms": 100}, "logs": {"access": true})"};
  shop_client shop{c.http()};
  REQUIRE(shop.create_user("u-1", "Ann").status == 201);
  REQUIRE(shop.set_stock("A", 10, 1500).status == 200);

  auto placed = place_traced(shop.http(), traceparent(trace_a), 2, "vendor=opaque,other=1");
  REQUIRE(placed.status == 201);
  CHECK(placed.headers["x-request-id"] == trace_a);  // the client's trace, not a new one
  auto order_id = json::parse(placed.body)["id"].get<std::string>();
  // Stock: the reservation and its commit.
  REQUIRE(eventually([&] { return has_all(collector, trace_a, last_of_each_node(2)); }, 20s));
  auto spans = collector.spans_of(trace_a);
  INFO(describe(spans));
  CHECK(collector.malformed() == 0);

  // Every span's parent is in the trace, but the HTTP span's, which is the caller's.
  std::map<std::string, const received_span*> by_id;
  for (auto& s : spans) by_id[s.span_id] = &s;
  CHECK(by_id.size() == spans.size());  // span ids are unique
  for (auto& s : spans) {
    INFO(s.name);
    if (s.kind == 2) continue;
    CHECK(by_id.count(s.parent_span_id) == 1);
    CHECK(s.end_ns >= s.start_ns);
    CHECK(s.trace_state == "vendor=opaque,other=1");  // passed on as it came
  }
  auto parent_of = [&](const received_span* s) -> const received_span* {
    if (!s) return nullptr;
    auto it = by_id.find(s->parent_span_id);
    return it == by_id.end() ? nullptr : it->second;
  };

  auto* request = named(spans, "POST /api/orders");
  REQUIRE(request);
  CHECK(request->kind == 2);
  CHECK(request->parent_span_id == caller_span);
  CHECK(request->node == "edge");
  CHECK(request->service == "gateway");
  CHECK(request->attributes["http.response.status_code"] == 201);
  CHECK(request->attributes["http.route"] == "/api/orders");
  CHECK_FALSE(request->error);

  auto* call = named(spans, "orders.place_order");
  REQUIRE(call);
  CHECK(call->kind == 3);
  CHECK(call->node == "edge");
  CHECK(parent_of(call) == request);

  auto* saga = named(spans, "saga place-order");
  REQUIRE(saga);
  CHECK(saga->node == "shop");
  CHECK(saga->service == "orders");
  CHECK(parent_of(saga) == call);
  CHECK(saga->attributes["order.id"] == order_id);
  CHECK(saga->attributes["order.customer"] == "u-1");
  CHECK(saga->attributes["order.total"] == 3000);
  CHECK(saga->attributes["saga.outcome"] == "completed");
  CHECK_FALSE(saga->error);

  // Each step under the saga; the calls a step makes under the step; each store transaction
  // under the call (or the local step) it was made for, on the node that holds the file.
  for (auto step : {"check_customer", "create", "reserve", "charge", "confirm", "commit"}) {
    auto* s = named(spans, std::string("step ") + step);
    INFO(step);
    REQUIRE(s);
    CHECK(parent_of(s) == saga);
    CHECK(s->attributes["order.id"] == order_id);
    CHECK_FALSE(s->error);
  }
  auto* reserve_call = named(spans, "inventory.reserve_stock");
  REQUIRE(reserve_call);
  CHECK(reserve_call->node == "shop");
  CHECK(parent_of(reserve_call) == named(spans, "step reserve"));
  auto* check_call = named(spans, "users.get_user");
  REQUIRE(check_call);
  CHECK(parent_of(check_call) == named(spans, "step check_customer"));
  std::set<std::string> stores_on_stock;
  for (auto& s : spans) {
    if (s.name.rfind("sqlite ", 0) != 0) continue;
    auto* p = parent_of(&s);
    REQUIRE(p);
    INFO(s.name << " under " << p->name);
    if (s.node == "stock") {
      stores_on_stock.insert(s.name);
      CHECK(p->kind == 3);  // under the call from the shop node
      CHECK(p->node == "shop");
    }
  }
  CHECK(stores_on_stock == std::set<std::string>{"sqlite inventory.db", "sqlite payments.db"});
  bool local_step_stored = false;
  for (auto& s : spans)
    if (s.name == "sqlite orders.db" && parent_of(&s) == named(spans, "step create"))
      local_step_stored = s.attributes["db.operation"] == "saga.local_step";
  CHECK(local_step_stored);
  std::set<std::string> nodes;
  for (auto& s : spans) nodes.insert(s.node);
  CHECK(nodes == std::set<std::string>{"edge", "shop", "stock"});

  // The access log line names the same trace.
  bool logged = false;
  std::istringstream log{c.stderr_of("edge")};
  for (std::string line; std::getline(log, line);) {
    auto parsed = json::parse(line, nullptr, false);
    if (!parsed.is_discarded() && parsed.value("capability", "") == "access" &&
        parsed.value("trace_id", "") == trace_a)
      logged = parsed["message"].get<std::string>().find("POST /api/orders 201") == 0 &&
               parsed.value("span_id", "") == request->span_id;
  }
  CHECK(logged);

  {  // A compensated order: the failing step and the saga carry the error.
    auto refused = place_traced(shop.http(), traceparent(trace_b), 50);
    REQUIRE(refused.status == 409);
    CHECK(json::parse(refused.body)["error"]["trace_id"] == trace_b);
    REQUIRE(eventually([&] { return has_all(collector, trace_b, last_of_each_node(1)); }, 20s));
    auto failed = collector.spans_of(trace_b);
    INFO(describe(failed));
    auto* saga_b = named(failed, "saga place-order");
    REQUIRE(saga_b);
    CHECK(saga_b->error);
    CHECK(saga_b->attributes["saga.outcome"] == "compensated");
    auto* reserve = named(failed, "step reserve");
    REQUIRE(reserve);
    CHECK(reserve->error);
    CHECK(reserve->status_message.find("A") != std::string::npos);  // names the SKU
    auto* undo = named(failed, "compensate create");
    REQUIRE(undo);
    CHECK(undo->parent_span_id == saga_b->span_id);
    auto* answer = named(failed, "POST /api/orders");
    REQUIRE(answer);
    CHECK(answer->attributes["http.response.status_code"] == 409);
    CHECK_FALSE(answer->error);  // a 4xx is the client's, not the server's, error
  }

  {  // Not sampled: nothing recorded. Not valid: a new trace.
    const std::string unsampled = "11111111111111111111111111111111";
    auto quiet = place_traced(shop.http(), traceparent(unsampled, "00"), 1);
    REQUIRE(quiet.status == 201);
    CHECK(quiet.headers["x-request-id"] == unsampled);
    // Uppercase hex is not W3C: the request starts a trace of its own, recorded.
    auto bad =
        place_traced(shop.http(), "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", 1);
    REQUIRE(bad.status == 201);
    auto fresh = bad.headers["x-request-id"];
    CHECK(fresh.size() == 32);
    CHECK(fresh != "4bf92f3577b34da6a3ce929d0e0e4736");
    REQUIRE(eventually([&] { return has_all(collector, fresh, last_of_each_node(2)); }, 20s));
    auto* root = named(collector.spans_of(fresh), "POST /api/orders");
    REQUIRE(root);
    CHECK(root->parent_span_id.empty());
    // The edge node exports in order: the later request's spans are in, the earlier
    // request recorded none.
    CHECK(collector.spans_of(unsampled).empty());
  }
}

TEST_CASE("a collector that is down loses spans, counted, and never slows requests") {
  otlp_receiver collector;
  collector.answer_with(503);
  temp_dir dir;
  cluster c{dir,
            one_node_plan(),
            {},
            {},
            R"("tracing": {"exporter": "otlp", "endpoint": ")" + collector.endpoint() +
                R"(", "flush_interval_ms": 50, "queue_size": 16, "batch_size": 8})"};
  http_client http{c.http()};
  for (int i = 0; i < 100; ++i) REQUIRE(http.get("/api/users/nobody").status == 404);
  http_client admin{c.node("dev").admin()};
  auto dropped = [&](const std::string& reason) {
    auto text = admin.get("/metrics").body;
    auto series = "trace_spans_dropped_total{reason=\"" + reason + "\"} ";
    auto at = text.find(series);
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size()));
  };
  CHECK(eventually([&] { return dropped("export_failed") >= 8; }, 10s));
  CHECK(collector.requests() >= 1);
  // The 200 server and client spans did not all fit the queue of 16 while exports failed.
  CHECK(eventually([&] { return dropped("export_failed") + dropped("queue_full") >= 100; }, 10s));
  auto text = admin.get("/metrics").body;
  CHECK(text.find("trace_spans_exported_total{exporter=\"otlp\"} 0") != std::string::npos);
}

TEST_CASE("in dev the spans go to a JSON-lines file a collector can read") {
  temp_dir dir;
  cluster c{
      dir,
      one_node_plan(),
      {},
      {},
      R"("tracing": {"exporter": "file", "file": "{data}/traces-{node}.jsonl", "flush_interval_ms": 50})"};
  http_client http{c.http()};
  auto r = http.request("GET", "/api/users/nobody", {}, {{"traceparent", traceparent(trace_a)}});
  REQUIRE(r.status == 404);
  auto file = c.data_dir() + "/traces-dev.jsonl";
  bool found = eventually(
      [&] {
        std::ifstream in{file};
        for (std::string line; std::getline(in, line);) {
          auto doc = json::parse(line, nullptr, false);
          if (doc.is_discarded()) continue;
          for (auto& rs : doc["resourceSpans"])
            for (auto& ss : rs["scopeSpans"])
              for (auto& s : ss["spans"])
                if (s["traceId"] == trace_a && s["name"] == "GET /api/users/{id}") return true;
        }
        return false;
      },
      10s);
  CHECK(found);
}
