// The W3C trace context a client sends, the OTLP JSON a collector gets, and the exporter's
// bounds: a full queue, a full file and a stop drop spans and count them, never block.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/observability/metrics.hpp"
#include "runtime/observability/tracing.hpp"
#include "tests/support/process.hpp"

using namespace troupe;
using json = nlohmann::json;

namespace {

const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string parent = "00f067aa0ba902b7";

double series(const metrics& m, const std::string& name) {
  auto text = m.render();
  auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

tracing::span sample_span(std::string name) {
  tracing::span s;
  s.trace_id = trace;
  s.span_id = "b7ad6b7169203331";
  s.parent_span_id = parent;
  s.name = std::move(name);
  s.service = "orders";
  s.start_ns = 1'700'000'000'000'000'000;
  s.end_ns = s.start_ns + 1000;
  return s;
}

tracing::settings file_exporter(std::string path) {
  tracing::settings s;
  s.kind = tracing::settings::exporter::file;
  s.file = std::move(path);
  return s;
}

}  // namespace

TEST_CASE("traceparent: W3C level 1, strictly") {
  auto ok = tracing::parse_traceparent("00-" + trace + "-" + parent + "-01");
  REQUIRE(ok);
  CHECK(ok->trace_id == trace);
  CHECK(ok->span_id == parent);
  CHECK(ok->sampled);
  CHECK_FALSE(tracing::parse_traceparent("00-" + trace + "-" + parent + "-00")->sampled);
  CHECK(tracing::parse_traceparent("00-" + trace + "-" + parent + "-03")->sampled);
  // A later version may append fields; its known prefix is read.
  CHECK(tracing::parse_traceparent("cc-" + trace + "-" + parent + "-01-what-comes"));
  CHECK(tracing::parse_traceparent("cc-" + trace + "-" + parent + "-01"));
  for (std::string bad : {
           "00-" + trace + "-" + parent + "-01-extra",  // version 00 is exactly 55 long
           "ff-" + trace + "-" + parent + "-01",        // version ff is invalid
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + parent + "-01",  // uppercase
           "00-00000000000000000000000000000000-" + parent + "-01",  // all-zero trace
           "00-" + trace + "-0000000000000000-01",                   // all-zero parent
           "00-" + trace + "-" + parent + "-0g",                     // flags not hex
           "00_" + trace + "-" + parent + "-01",                     // separator
           "00-" + trace.substr(1) + "-" + parent + "-01",           // short trace id
           "cc-" + trace + "-" + parent + "-01x",  // a later version: '-' must follow
           std::string(),
           std::string(4096, 'a'),
       }) {
    INFO(bad);
    CHECK_FALSE(tracing::parse_traceparent(bad));
  }
  CHECK(tracing::format_traceparent(trace, parent, true) == "00-" + trace + "-" + parent + "-01");
}

TEST_CASE("tracestate is passed on only when well formed and within bounds") {
  CHECK(tracing::accept_tracestate("vendor=opaque,other=1") == "vendor=opaque,other=1");
  CHECK(tracing::accept_tracestate("a=1, ,b@tenant=2") == "a=1, ,b@tenant=2");  // empty member
  std::string many;
  for (int i = 0; i < 33; ++i) many += (i ? ",k" : "k") + std::to_string(i) + "=v";
  CHECK(tracing::accept_tracestate(many).empty());                          // 33 members
  CHECK(tracing::accept_tracestate("k=" + std::string(511, 'v')).empty());  // over 512 bytes
  for (std::string bad : {"A=1", "=1", "a=", "a", "a=b=c", "a=1\x01"}) {
    INFO(bad);
    CHECK(tracing::accept_tracestate(bad).empty());
  }
}

TEST_CASE("the OTLP endpoint is an http URL with a host and a port") {
  std::string why;
  auto e = tracing::parse_endpoint("http://127.0.0.1:4318/v1/traces", why);
  REQUIRE(e);
  CHECK(e->host == "127.0.0.1");
  CHECK(e->port == "4318");
  CHECK(e->target == "/v1/traces");
  auto plain = tracing::parse_endpoint("http://collector", why);
  REQUIRE(plain);
  CHECK(plain->port == "80");
  CHECK(plain->target == "/v1/traces");
  auto v6 = tracing::parse_endpoint("http://[::1]:4318/otlp/v1/traces", why);
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->target == "/otlp/v1/traces");
  for (auto bad : {"https://collector:4318", "collector:4318", "http://:4318", "http://h:0",
                   "http://h:99999", "http://h:port", "http://[::1"}) {
    INFO(bad);
    why.clear();
    CHECK_FALSE(tracing::parse_endpoint(bad, why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("spans become one OTLP/JSON export request, grouped by service") {
  auto a = sample_span("inventory.reserve_stock");
  a.kind = tracing::span_kind::client;
  a.attributes = {{"order.total", std::int64_t{3000}},
                  {"order.id", std::string("o-1")},
                  {"ok", true},
                  {"ratio", 0.5},
                  {"note", std::string("say \"hi\"\n\\ \x01")}};
  a.error = true;
  a.status_message = "'A': 50 requested";
  auto b = sample_span("bad \xff name");
  b.service = "gateway";
  b.parent_span_id.clear();
  auto doc = json::parse(tracing::otlp_json({a, b}, "shop"));
  auto& rs = doc["resourceSpans"];
  REQUIRE(rs.size() == 2);
  auto& resource = rs[0]["resource"]["attributes"];
  CHECK(resource[0] == json{{"key", "service.name"}, {"value", {{"stringValue", "orders"}}}});
  CHECK(resource[2] == json{{"key", "service.instance.id"}, {"value", {{"stringValue", "shop"}}}});
  auto& span = rs[0]["scopeSpans"][0]["spans"][0];
  CHECK(span["traceId"] == trace);
  CHECK(span["parentSpanId"] == parent);
  CHECK(span["kind"] == 3);
  CHECK(span["startTimeUnixNano"] == "1700000000000000000");  // 64-bit integers as strings
  CHECK(span["attributes"][0]["value"] == json{{"intValue", "3000"}});
  CHECK(span["attributes"][2]["value"] == json{{"boolValue", true}});
  CHECK(span["attributes"][3]["value"] == json{{"doubleValue", 0.5}});
  CHECK(span["attributes"][4]["value"] == json{{"stringValue", "say \"hi\"\n\\ \x01"}});
  CHECK(span["status"] == json{{"code", 2}, {"message", "'A': 50 requested"}});
  auto& root = rs[1]["scopeSpans"][0]["spans"][0];
  CHECK_FALSE(root.contains("parentSpanId"));
  CHECK(root["name"] == "bad \xef\xbf\xbd name");  // broken UTF-8 replaced, not thrown
  CHECK(root["status"] == json::object());
}

TEST_CASE("the exporter's queue is bounded: beyond it spans are dropped and counted") {
  test::temp_dir dir;
  metrics m;
  auto s = file_exporter(dir.file("spans-n1.jsonl"));
  s.queue_size = 4;
  s.batch_size = 100;  // never reached: nothing leaves before the stop
  s.flush_interval = std::chrono::seconds{60};
  tracing::start("n1", s, &m);
  CHECK(tracing::enabled());
  for (int i = 0; i < 10; ++i) tracing::record(sample_span("s" + std::to_string(i)));
  CHECK(series(m, "trace_spans_dropped_total{reason=\"queue_full\"}") == 6);
  tracing::stop(std::chrono::seconds{5});  // exports the 4 queued
  CHECK_FALSE(tracing::enabled());
  CHECK(series(m, "trace_spans_exported_total{exporter=\"file\"}") == 4);
  std::ifstream in{dir.file("spans-n1.jsonl")};
  std::string line;
  REQUIRE(std::getline(in, line));
  auto spans = json::parse(line)["resourceSpans"][0]["scopeSpans"][0]["spans"];
  CHECK(spans.size() == 4);
  CHECK(spans[0]["name"] == "s0");
  CHECK_FALSE(std::getline(in, line));
  tracing::record(sample_span("after"));  // stopped: nothing, no crash
}

TEST_CASE("a full trace file drops what does not fit, counted") {
  test::temp_dir dir;
  metrics m;
  auto s = file_exporter(dir.file("spans.jsonl"));
  s.max_file_bytes = 100;  // less than one export
  tracing::start("n1", s, &m);
  tracing::record(sample_span("x"));
  tracing::stop(std::chrono::seconds{5});
  CHECK(series(m, "trace_spans_dropped_total{reason=\"file_full\"}") == 1);
  std::ifstream in{dir.file("spans.jsonl")};
  CHECK(in.peek() == std::ifstream::traits_type::eof());
}

TEST_CASE("with tracing off, spans are inactive and hand their parent on") {
  REQUIRE_FALSE(tracing::enabled());
  trace_parent p{trace, parent, "k=v", true};
  auto span = tracing::active_span::start("x", tracing::span_kind::internal, p, "orders");
  CHECK_FALSE(span.active());
  CHECK(span.as_parent().span_id == parent);
  span.set("a", std::int64_t{1});
  span.end();  // nothing recorded, nothing thrown
  test::temp_dir dir;
  auto s = file_exporter(dir.file("t.jsonl"));
  s.sample_ratio = 0;
  tracing::start("n", s, nullptr);
  CHECK_FALSE(tracing::sample_new_trace());
  auto on = tracing::active_span::start("y", tracing::span_kind::server, p, "gateway");
  CHECK(on.active());  // a sampled parent is followed whatever the ratio
  CHECK(on.as_parent().trace_id == trace);
  CHECK(on.as_parent().span_id != parent);
  p.sampled = false;
  CHECK_FALSE(tracing::active_span::start("z", tracing::span_kind::server, p, "gateway").active());
  tracing::stop(std::chrono::seconds{1});
}
