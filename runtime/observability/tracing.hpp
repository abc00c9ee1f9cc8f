// Tracing: W3C trace context in, OpenTelemetry spans out.
//
// A trace enters at the gateway (its `traceparent`, or a new one), travels in the call
// context (core/call_context.hpp) through every actor hop and across nodes, and every part
// of the runtime that does work for it records a span: the HTTP request (server), each
// capability call (client), each saga, saga step and compensation, each store transaction.
//
// Spans go to one process-wide exporter: a bounded queue drained by one thread, in batches,
// as OTLP/HTTP JSON (`POST /v1/traces` to a collector) or as OTLP JSON lines in a file (the
// OpenTelemetry Collector's otlpjsonfile receiver reads it). Recording never blocks and
// never waits for the exporter: a full queue drops the span and counts it
// (trace_spans_dropped_total{reason}). With tracing off, or for a trace that is not sampled,
// nothing is recorded and starting a span costs a branch.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/core/call_context.hpp"
#include "runtime/core/settings.hpp"

namespace troupe {

class metrics;

namespace tracing {

// A `traceparent` header as W3C Trace Context level 1 defines it: version 00 exactly, or a
// later version (not ff) of at least the same length; lowercase hex; neither id all zeros.
// Anything else is nullopt: the request starts a new trace, as the standard asks.
struct w3c_traceparent {
  std::string trace_id;  // 32 hex digits
  std::string span_id;   // 16 hex digits: the caller's span, the parent of ours
  bool sampled = false;  // trace-flags bit 0
};
std::optional<w3c_traceparent> parse_traceparent(std::string_view value);
std::string format_traceparent(std::string_view trace_id, std::string_view span_id, bool sampled);

// A `tracestate` header passed on when it is well formed and within the standard's bounds
// (at most 32 list members, 512 bytes); empty otherwise (the standard lets us drop it).
std::string accept_tracestate(std::string_view value);

enum class span_kind : int { internal = 1, server = 2, client = 3 };  // OTLP's numbers
using attribute_value = std::variant<std::string, std::int64_t, double, bool>;

struct span {
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;  // empty: a root span
  std::string trace_state;
  std::string name;     // low cardinality: a route template, "<capability>.<operation>"
  std::string service;  // the capability it ran in: the resource's service.name
  span_kind kind = span_kind::internal;
  std::int64_t start_ns = 0;  // Unix epoch
  std::int64_t end_ns = 0;
  bool error = false;
  std::string status_message;  // for an error
  std::vector<std::pair<std::string, attribute_value>> attributes;
};

std::int64_t unix_now_ns();

struct settings {
  enum class exporter { none, otlp, file };
  exporter kind = exporter::none;
  std::string endpoint;  // otlp: "http://host:port/v1/traces"
  std::string file;      // file: a path
  // New traces (no sampled traceparent came in) recorded: 1 all, 0 none. A traceparent's
  // sampled flag is followed either way (parent-based sampling).
  double sample_ratio = 1.0;
  std::size_t queue_size = 4096;  // spans waiting for export; beyond it they are dropped
  std::size_t batch_size = 512;   // spans per export request
  std::chrono::milliseconds flush_interval{1000};  // a partial batch waits at most this
  std::chrono::milliseconds export_timeout{5000};  // per request, connect included
  std::uint64_t max_file_bytes = 256ull << 20;     // file: spans beyond it are dropped
};

// "http://host:port/path" split; nullopt (and `why`) for anything else. https is not
// spoken: a collector agent runs beside the node (localhost, a pod's sidecar or its node).
struct http_endpoint {
  std::string host;
  std::string port;
  std::string target;
};
std::optional<http_endpoint> parse_endpoint(std::string_view url, std::string& why);

// Reads the topology's "tracing". Throws settings_error.
settings read_settings(settings_reader& r);

// Starts the exporter for the node `node` (the resource's service.instance.id), counting in
// `sink` (may be null). Before any thread records; once per process (a second call
// replaces the first after stopping it).
void start(std::string node, settings s, metrics* sink);
// Exports what is queued, for at most `grace`, then stops the exporter; what is left is
// dropped and counted. Idempotent.
void stop(std::chrono::milliseconds grace);
bool enabled();
// Whether a new trace is recorded (settings::sample_ratio).
bool sample_new_trace();
// Queues `s` for export; drops it (counted) when the queue is full. Never blocks on export.
void record(span&& s);

// One OTLP/JSON ExportTraceServiceRequest: spans grouped by service, resource attributes
// service.name, service.namespace "troupe", service.instance.id `node`.
std::string otlp_json(const std::vector<span>& spans, std::string_view node);

// A span being timed. Inactive (every call a no-op, end() records nothing) when tracing is
// off or its trace is not sampled; it still hands its parent on to children, so a trace
// id travels whether or not it is recorded.
class active_span {
 public:
  active_span() = default;
  // Starts now, under `parent` (its trace, its span as parent). `span_id` empty: a new one.
  static active_span start(std::string_view name, span_kind kind, const trace_parent& parent,
                           std::string_view service, std::string span_id = {});
  bool active() const { return span_.has_value(); }
  // For work done under this span: the same trace, this span as parent (the parent given
  // to start() when inactive).
  trace_parent as_parent() const;
  const std::string& trace_id() const { return parent_.trace_id; }
  void set(std::string key, attribute_value value);
  void rename(std::string name);
  void fail(std::string message);  // error status
  void end();                      // records it (once)

 private:
  trace_parent parent_;
  std::optional<span> span_;
};

}  // namespace tracing
}  // namespace troupe
