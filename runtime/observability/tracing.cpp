#include "runtime/observability/tracing.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "runtime/core/ids.hpp"
#include "runtime/core/json.hpp"
#include "runtime/observability/log.hpp"
#include "runtime/observability/metrics.hpp"

namespace troupe::tracing {

namespace {

using json = nlohmann::json;
namespace beast = boost::beast;
namespace net = boost::asio;

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zeros(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

// trace_spans_dropped_total's reasons, in this order.
enum drop_reason : std::size_t { queue_full, export_failed, shutdown, file_full };

struct exporter {
  std::string node;
  settings cfg;
  std::optional<http_endpoint> endpoint;
  fixed_counter exported;  // {exporter}: 0 otlp, 1 file
  fixed_counter dropped;   // {reason}: drop_reason
  std::mutex m;
  std::condition_variable wake;
  std::deque<span> queue;
  bool stopping = false;
  std::chrono::steady_clock::time_point stop_by;
  std::thread worker;
  std::FILE* file = nullptr;
  std::uint64_t file_bytes = 0;
  std::chrono::steady_clock::time_point last_warning{};

  void count_dropped(drop_reason why, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dropped.increment(why);
  }

  // At most one line every 10 s: a collector that is down must not flood the log.
  void warn(const std::string& what) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_warning < std::chrono::seconds{10}) return;
    last_warning = now;
    log_warn("tracing", what);
  }

  void run() {
    std::unique_lock<std::mutex> lock(m);
    for (;;) {
      wake.wait_for(lock, cfg.flush_interval,
                    [&] { return stopping || queue.size() >= cfg.batch_size; });
      if (queue.empty()) {
        if (stopping) return;
        continue;
      }
      if (stopping && std::chrono::steady_clock::now() >= stop_by) {
        count_dropped(shutdown, queue.size());
        queue.clear();
        return;
      }
      std::vector<span> batch;
      auto n = std::min(queue.size(), cfg.batch_size);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      lock.unlock();
      send(batch);
      lock.lock();
    }
  }

  void send(const std::vector<span>& batch) {
    auto body = otlp_json(batch, node);
    if (cfg.kind == settings::exporter::file) {
      if (!file || file_bytes + body.size() + 1 > cfg.max_file_bytes) {
        warn("the trace file is full (" + std::to_string(cfg.max_file_bytes) +
             " bytes) or not open: spans are dropped");
        return count_dropped(file_full, batch.size());
      }
      body.push_back('\n');
      if (std::fwrite(body.data(), 1, body.size(), file) != body.size() || std::fflush(file) != 0) {
        warn("writing the trace file failed: spans are dropped");
        return count_dropped(export_failed, batch.size());
      }
      file_bytes += body.size();
      for (std::size_t i = 0; i < batch.size(); ++i) exported.increment(1);
      return;
    }
    if (auto failed = post(body)) {
      warn("exporting " + std::to_string(batch.size()) + " spans to " + cfg.endpoint +
           " failed: " + *failed + "; they are dropped");
      return count_dropped(export_failed, batch.size());
    }
    for (std::size_t i = 0; i < batch.size(); ++i) exported.increment(0);
  }

  // One POST within export_timeout; nullopt when the collector took it (2xx).
  std::optional<std::string> post(const std::string& body) {
    net::io_context io;
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer;
    beast::http::request<beast::http::string_body> req{beast::http::verb::post, endpoint->target,
                                                       11};
    req.set(beast::http::field::host, endpoint->host + ":" + endpoint->port);
    req.set(beast::http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    beast::http::response_parser<beast::http::string_body> res;
    res.body_limit(64 << 10);  // a collector's answer is small; never grow on a big one
    std::optional<std::string> failure = std::string("timed out");
    net::ip::tcp::resolver resolver(io);
    stream.expires_after(cfg.export_timeout);
    resolver.async_resolve(
        endpoint->host, endpoint->port,
        [&](beast::error_code ec, net::ip::tcp::resolver::results_type r) {
          if (ec) return void(failure = "resolving " + endpoint->host + ": " + ec.message());
          stream.async_connect(r, [&](beast::error_code ec, const net::ip::tcp::endpoint&) {
            if (ec) return void(failure = "connecting: " + ec.message());
            beast::http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
              if (ec) return void(failure = "sending: " + ec.message());
              beast::http::async_read(stream, buffer, res, [&](beast::error_code ec, std::size_t) {
                if (ec) return void(failure = "reading the answer: " + ec.message());
                auto status = res.get().result_int();
                if (status >= 200 && status < 300)
                  failure.reset();
                else
                  failure = "the collector answered HTTP " + std::to_string(status);
              });
            });
          });
        });
    io.run_for(cfg.export_timeout + std::chrono::milliseconds{100});
    beast::error_code ignored;
    stream.socket().close(ignored);
    return failure;
  }
};

std::mutex the_exporter_mutex;  // start/stop against each other
std::shared_ptr<exporter> the_exporter;
std::atomic<exporter*> live{nullptr};  // what record() uses; null: tracing off
std::atomic<double> ratio{1.0};

// OTLP/JSON is written straight into one string: building a json tree per span cost more
// CPU than serving the request it describes (a profile of the gateway benchmark at a sample
// ratio of 1). append_json_string escapes and replaces broken UTF-8 (it may come from a
// client) instead of throwing.
void put_attribute(std::string& out, std::string_view key, const attribute_value& v) {
  out += "{\"key\":";
  append_json_string(out, key);
  out += ",\"value\":{";
  if (auto s = std::get_if<std::string>(&v)) {
    out += "\"stringValue\":";
    append_json_string(out, *s);
  } else if (auto i = std::get_if<std::int64_t>(&v)) {
    out += "\"intValue\":\"" + std::to_string(*i) + '"';  // OTLP/JSON: 64-bit ints as strings
  } else if (auto d = std::get_if<double>(&v)) {
    out += "\"doubleValue\":" + json(*d).dump();
  } else {
    out += std::get<bool>(v) ? "\"boolValue\":true" : "\"boolValue\":false";
  }
  out += "}}";
}

void put_span(std::string& out, const span& s) {
  out += "{\"traceId\":";
  append_json_string(out, s.trace_id);
  out += ",\"spanId\":";
  append_json_string(out, s.span_id);
  if (!s.parent_span_id.empty()) {
    out += ",\"parentSpanId\":";
    append_json_string(out, s.parent_span_id);
  }
  if (!s.trace_state.empty()) {
    out += ",\"traceState\":";
    append_json_string(out, s.trace_state);
  }
  out += ",\"name\":";
  append_json_string(out, s.name);
  out += ",\"kind\":" + std::to_string(static_cast<int>(s.kind));
  out += ",\"startTimeUnixNano\":\"" + std::to_string(s.start_ns) + '"';
  out += ",\"endTimeUnixNano\":\"" + std::to_string(s.end_ns) + '"';
  out += ",\"attributes\":[";
  for (std::size_t i = 0; i < s.attributes.size(); ++i) {
    if (i > 0) out += ',';
    put_attribute(out, s.attributes[i].first, s.attributes[i].second);
  }
  out += "],\"status\":{";
  if (s.error) {
    out += "\"code\":2,\"message\":";
    append_json_string(out, s.status_message);
  }
  out += "}}";
}

}  // namespace

std::optional<w3c_traceparent> parse_traceparent(std::string_view v) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55.
  if (v.size() < 55) return std::nullopt;
  auto version = v.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") return std::nullopt;
  // Version 00 is exactly 55 long; a later one may add fields after another '-'.
  if (version == "00" ? v.size() != 55 : (v.size() > 55 && v[55] != '-')) return std::nullopt;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  auto trace = v.substr(3, 32), parent = v.substr(36, 16), flags = v.substr(53, 2);
  if (!is_lower_hex(trace) || !is_lower_hex(parent) || !is_lower_hex(flags)) return std::nullopt;
  if (all_zeros(trace) || all_zeros(parent)) return std::nullopt;
  auto flag_bits = std::stoi(std::string(flags), nullptr, 16);
  return w3c_traceparent{std::string(trace), std::string(parent), (flag_bits & 1) != 0};
}

std::string format_traceparent(std::string_view trace_id, std::string_view span_id, bool sampled) {
  std::string out = "00-";
  out.append(trace_id).append("-").append(span_id).append(sampled ? "-01" : "-00");
  return out;
}

std::string accept_tracestate(std::string_view value) {
  if (value.size() > 512) return {};
  std::size_t members = 0;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    auto member = value.substr(start, end - start);
    while (!member.empty() && (member.front() == ' ' || member.front() == '\t'))
      member.remove_prefix(1);
    while (!member.empty() && (member.back() == ' ' || member.back() == '\t'))
      member.remove_suffix(1);
    if (!member.empty()) {  // empty members are allowed and skipped
      if (++members > 32) return {};
      auto eq = member.find('=');
      if (eq == 0 || eq == std::string_view::npos || eq > 256 || member.size() - eq - 1 > 256)
        return {};
      for (char c : member.substr(0, eq))
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '*' || c == '/' || c == '@'))
          return {};
      auto val = member.substr(eq + 1);
      if (val.empty()) return {};
      for (char c : val)
        if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return {};
    }
    start = end + 1;
  }
  return std::string(value);
}

std::int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<http_endpoint> parse_endpoint(std::string_view url, std::string& why) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) {
    why = "must start with http:// (run a collector agent beside the node)";
    return std::nullopt;
  }
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  http_endpoint out;
  out.target = slash == std::string_view::npos ? "/v1/traces" : std::string(rest.substr(slash));
  std::string_view host = authority, port = "80";
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "has an unclosed [ in its host";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        why = "has something after its [host] that is not :port";
        return std::nullopt;
      }
      port = authority.substr(close + 2);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) {
    why = "has no host";
    return std::nullopt;
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535) {
    why = "has no valid port";
    return std::nullopt;
  }
  out.host = std::string(host);
  out.port = std::string(port);
  return out;
}

void start(std::string node, settings s, metrics* sink) {
  stop(std::chrono::milliseconds{0});
  if (s.kind == settings::exporter::none) return;
  auto e = std::make_shared<exporter>();
  e->node = std::move(node);
  e->cfg = std::move(s);
  e->cfg.batch_size = std::max<std::size_t>(1, e->cfg.batch_size);
  if (e->cfg.kind == settings::exporter::otlp) {
    std::string why;
    e->endpoint = parse_endpoint(e->cfg.endpoint, why);
    if (!e->endpoint)
      throw std::invalid_argument("tracing endpoint '" + e->cfg.endpoint + "' " + why);
  } else {
    e->file = std::fopen(e->cfg.file.c_str(), "ae");
    if (!e->file)
      throw std::invalid_argument("cannot open the trace file '" + e->cfg.file + "' for appending");
    std::fseek(e->file, 0, SEEK_END);
    e->file_bytes = static_cast<std::uint64_t>(std::max(0L, std::ftell(e->file)));
  }
  if (sink) {
    e->exported = sink->counter("trace_spans_exported_total",
                                "Spans handed to the trace exporter's destination", "exporter",
                                {"otlp", "file"});
    e->dropped = sink->counter("trace_spans_dropped_total",
                               "Spans dropped: export queue full, export failed, left at shutdown, "
                               "trace file full",
                               "reason", {"queue_full", "export_failed", "shutdown", "file_full"});
  }
  ratio.store(std::clamp(e->cfg.sample_ratio, 0.0, 1.0));
  auto raw = e.get();
  e->worker = std::thread([raw] { raw->run(); });
  std::lock_guard<std::mutex> guard(the_exporter_mutex);
  the_exporter = e;
  live.store(raw);
}

void stop(std::chrono::milliseconds grace) {
  std::shared_ptr<exporter> e;
  {
    std::lock_guard<std::mutex> guard(the_exporter_mutex);
    e = std::move(the_exporter);
  }
  if (!e) return;
  // record() may still hold the pointer: it only touches the queue under the mutex, and
  // once stopping is set it drops instead of queueing; the object outlives this function's
  // callers because it is never freed (one per process start, a few hundred bytes).
  {
    std::lock_guard<std::mutex> lock(e->m);
    e->stopping = true;
    e->stop_by = std::chrono::steady_clock::now() + grace;
  }
  e->wake.notify_all();
  e->worker.join();
  live.store(nullptr);
  if (e->file) std::fclose(e->file);
  e->file = nullptr;
  // Kept alive for a record() that loaded `live` just before it was cleared.
  static std::vector<std::shared_ptr<exporter>> retired;
  retired.push_back(std::move(e));
}

bool enabled() {
  return live.load(std::memory_order_relaxed) != nullptr;
}

bool sample_new_trace() {
  auto r = ratio.load(std::memory_order_relaxed);
  if (r >= 1.0) return true;
  if (r <= 0.0) return false;
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen) < r;
}

void record(span&& s) {
  auto e = live.load(std::memory_order_acquire);
  if (!e) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(e->m);
    if (e->stopping || e->queue.size() >= e->cfg.queue_size) {
      e->count_dropped(e->stopping ? shutdown : queue_full, 1);
      return;
    }
    e->queue.push_back(std::move(s));
    wake = e->queue.size() == e->cfg.batch_size;
  }
  if (wake) e->wake.notify_one();
}

std::string otlp_json(const std::vector<span>& spans, std::string_view node) {
  // Grouped by service, in order of first appearance.
  std::vector<std::string_view> services;
  for (auto& s : spans)
    if (std::find(services.begin(), services.end(), s.service) == services.end())
      services.push_back(s.service);
  std::string out;
  out.reserve(spans.size() * 512 + 256);
  out += "{\"resourceSpans\":[";
  for (std::size_t k = 0; k < services.size(); ++k) {
    if (k > 0) out += ',';
    out += "{\"resource\":{\"attributes\":[";
    put_attribute(out, "service.name", std::string(services[k]));
    out += ',';
    put_attribute(out, "service.namespace", std::string("troupe"));
    out += ',';
    put_attribute(out, "service.instance.id", std::string(node));
    out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"troupe\"},\"spans\":[";
    bool first = true;
    for (auto& s : spans) {
      if (s.service != services[k]) continue;
      if (!first) out += ',';
      first = false;
      put_span(out, s);
    }
    out += "]}]}";
  }
  out += "]}";
  return out;
}

active_span active_span::start(std::string_view name, span_kind kind, const trace_parent& parent,
                               std::string_view service, std::string span_id) {
  active_span out;
  out.parent_ = parent;
  if (!parent.sampled || !enabled()) return out;
  span s;
  s.trace_id = parent.trace_id;
  s.span_id = span_id.empty() ? random_hex(8) : std::move(span_id);
  s.parent_span_id = parent.span_id;
  s.trace_state = parent.state;
  s.name = std::string(name);
  s.service = std::string(service);
  s.kind = kind;
  s.start_ns = unix_now_ns();
  out.span_ = std::move(s);
  return out;
}

trace_parent active_span::as_parent() const {
  if (!span_) return parent_;
  return {span_->trace_id, span_->span_id, span_->trace_state, true};
}

void active_span::set(std::string key, attribute_value value) {
  if (span_) span_->attributes.emplace_back(std::move(key), std::move(value));
}

void active_span::rename(std::string name) {
  if (span_) span_->name = std::move(name);
}

void active_span::fail(std::string message) {
  if (!span_) return;
  span_->error = true;
  span_->status_message = std::move(message);
}

void active_span::end() {
  if (!span_) return;
  span_->end_ns = unix_now_ns();
  record(std::move(*span_));
  span_.reset();
}

}  // namespace troupe::tracing
