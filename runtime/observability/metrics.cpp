#include "runtime/observability/metrics.hpp"

#include <atomic>
#include <sstream>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace troupe {

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("http_requests_total")
          .Help("HTTP requests answered, by method, route template and status code")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& durations =
      prometheus::BuildHistogram()
          .Name("http_request_duration_seconds")
          .Help("Time from a complete request to its response, by method, route and status")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& connections =
      prometheus::BuildGauge()
          .Name("http_open_connections")
          .Help("HTTP connections currently open, by listener")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& sagas =
      prometheus::BuildCounter()
          .Name("sagas_finished_total")
          .Help("Sagas that reached a final state, by definition and outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& saga_retries =
      prometheus::BuildCounter()
          .Name("saga_step_retries_total")
          .Help("Saga steps and compensations sent again after a transient failure")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& sagas_stuck =
      prometheus::BuildGauge()
          .Name("sagas_stuck")
          .Help("Sagas now stuck: a compensation keeps failing, or the definition is unknown")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& sagas_recovered =
      prometheus::BuildCounter()
          .Name("sagas_recovered_total")
          .Help("Unfinished sagas taken up again when their capability started")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& applied_offset =
      prometheus::BuildGauge()
          .Name("events_applied_offset")
          .Help("Outbox offset a subscription has applied up to")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& producer_offset =
      prometheus::BuildGauge()
          .Name("events_producer_offset")
          .Help("Newest outbox offset of a subscription's producer, as last seen")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& pauses =
      prometheus::BuildCounter()
          .Name("http_accept_pauses_total")
          .Help("Times a listener stopped accepting: connection cap or descriptor limit reached")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& capability_up =
      prometheus::BuildGauge()
          .Name("capability_up")
          .Help(
              "1 while a hosted capability is serving or being restarted, 0 once its "
              "supervisor gave up on it")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& capability_restarts =
      prometheus::BuildCounter()
          .Name("capability_restarts_total")
          .Help(
              "Restarts by a capability's supervisor, by the actor restarted (\"all\": the "
              "whole capability)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& breaker_state =
      prometheus::BuildGauge()
          .Name("call_breaker_state")
          .Help(
              "Circuit breaker of calls from this node to a capability: 0 closed, 1 open, "
              "2 half-open")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& breaker_transitions =
      prometheus::BuildCounter()
          .Name("call_breaker_transitions_total")
          .Help("Circuit breaker changes of state, by callee and the state entered")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& mailbox_depth =
      prometheus::BuildGauge()
          .Name("capability_mailbox_depth")
          .Help("Messages waiting in a capability's front mailbox, as of the last one it took up")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& requests_shed =
      prometheus::BuildCounter()
          .Name("requests_shed_total")
          .Help(
              "Requests a capability refused before doing any work (503 or 504), by reason: "
              "queue_time (waited longer than calls.max_queue_ms), deadline (already past it)")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& saga_seconds =
      prometheus::BuildHistogram()
          .Name("saga_duration_seconds")
          .Help("Time from a saga's first log row to its final one, by definition and outcome")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& calls =
      prometheus::BuildCounter()
          .Name("capability_calls_total")
          .Help(
              "Calls from this node to a capability, by callee and outcome: ok, error (it "
              "answered with one), no_answer (lost or past the deadline), refused (not sent)")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& call_seconds =
      prometheus::BuildHistogram()
          .Name("capability_call_duration_seconds")
          .Help("Time from sending a call to a capability to its answer, by callee")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& commit_seconds =
      prometheus::BuildHistogram()
          .Name("sqlite_commit_duration_seconds")
          .Help("Time a group commit (COMMIT and its fsync) took, by database file")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& commit_batch =
      prometheus::BuildHistogram()
          .Name("sqlite_commit_batch_size")
          .Help("Requests one group commit made durable, by database file")
          .Register(*registry);
  // Family::Add finds or creates a series under the family's lock (~100 ns); each thread
  // keeps the series it used, so counting a request takes neither.
  std::uint64_t instance = next_instance++;
  static inline std::atomic<std::uint64_t> next_instance{1};
};

namespace {

// What a thread remembers of a series: which metrics object, which labels (by address).
struct series_key {
  std::uint64_t instance;
  const char* method;
  const char* route;
  std::size_t route_size;
  int status;
  bool operator==(const series_key& o) const {
    return instance == o.instance && method == o.method && route == o.route &&
           route_size == o.route_size && status == o.status;
  }
};

struct series_key_hash {
  std::size_t operator()(const series_key& k) const {
    auto h = std::hash<const void*>{}(k.route) ^ (std::hash<const void*>{}(k.method) << 1);
    return h ^ (static_cast<std::size_t>(k.status) << 7) ^ (k.instance << 17);
  }
};

}  // namespace

metrics::metrics() : impl_(std::make_unique<impl>()) {}
metrics::~metrics() = default;

prometheus::Registry& metrics::registry() {
  return *impl_->registry;
}

void metrics::observe_http(std::string_view method, std::string_view route, int status,
                           double seconds) {
  thread_local std::unordered_map<
      series_key, std::pair<prometheus::Counter*, prometheus::Histogram*>, series_key_hash>
      known;
  series_key fast{impl_->instance, method.data(), route.data(), route.size(), status};
  if (auto hit = known.find(fast); hit != known.end()) {
    hit->second.first->Increment();
    hit->second.second->Observe(seconds);
    return;
  }
  std::map<std::string, std::string> labels{{"method", std::string(method)},
                                            {"route", std::string(route)},
                                            {"status_code", std::to_string(status)}};
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  std::pair<prometheus::Counter*, prometheus::Histogram*> s{&impl_->requests.Add(labels),
                                                            &impl_->durations.Add(labels, buckets)};
  // Bounded even if a caller broke the contract and passed labels at changing addresses.
  if (known.size() >= 4096) known.clear();
  known.emplace(fast, s);
  s.first->Increment();
  s.second->Observe(seconds);
}

listener_metrics metrics::for_listener(std::string_view name) {
  listener_metrics out;
  out.open_ = &impl_->connections.Add({{"listener", std::string(name)}});
  out.pauses_ = &impl_->pauses.Add({{"listener", std::string(name)}});
  return out;
}

void listener_metrics::connections_changed(int delta) {
  if (open_) open_->Increment(static_cast<double>(delta));
}

void listener_metrics::accept_paused() {
  if (pauses_) pauses_->Increment();
}

saga_metrics metrics::for_saga(std::string_view definition) {
  std::string name{definition};
  saga_metrics out;
  out.completed_ = &impl_->sagas.Add({{"definition", name}, {"outcome", "completed"}});
  out.compensated_ = &impl_->sagas.Add({{"definition", name}, {"outcome", "compensated"}});
  // Sagas run for milliseconds when all goes well and minutes when steps retry.
  static const prometheus::Histogram::BucketBoundaries saga_buckets{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};
  out.completed_seconds_ =
      &impl_->saga_seconds.Add({{"definition", name}, {"outcome", "completed"}}, saga_buckets);
  out.compensated_seconds_ =
      &impl_->saga_seconds.Add({{"definition", name}, {"outcome", "compensated"}}, saga_buckets);
  out.retries_ = &impl_->saga_retries.Add({{"definition", name}});
  out.stuck_ = &impl_->sagas_stuck.Add({{"definition", name}});
  out.recovered_ = &impl_->sagas_recovered.Add({{"definition", name}});
  return out;
}

subscription_metrics metrics::for_subscription(std::string_view subscription) {
  std::string name{subscription};
  subscription_metrics out;
  out.applied_ = &impl_->applied_offset.Add({{"subscription", name}});
  out.newest_ = &impl_->producer_offset.Add({{"subscription", name}});
  return out;
}

supervision_metrics metrics::for_capability(std::string_view capability) {
  supervision_metrics out;
  out.capability_ = std::string(capability);
  out.up_ = &impl_->capability_up.Add({{"capability", out.capability_}});
  out.restarts_ = &impl_->capability_restarts;
  return out;
}

void supervision_metrics::up(bool is_up) {
  if (up_) up_->Set(is_up ? 1 : 0);
}

void supervision_metrics::restarted(std::string_view actor) {
  if (restarts_)
    restarts_->Add({{"capability", capability_}, {"actor", std::string(actor)}}).Increment();
}

breaker_metrics metrics::for_breaker(std::string_view callee) {
  std::string name{callee};
  breaker_metrics out;
  out.state_ = &impl_->breaker_state.Add({{"callee", name}});
  const char* states[] = {"closed", "open", "half_open"};
  for (int i = 0; i < 3; ++i)
    out.entered_[i] = &impl_->breaker_transitions.Add({{"callee", name}, {"to", states[i]}});
  return out;
}

shedding_metrics metrics::for_shedding(std::string_view capability) {
  std::string name{capability};
  shedding_metrics out;
  out.queue_time_ = &impl_->requests_shed.Add({{"capability", name}, {"reason", "queue_time"}});
  out.deadline_ = &impl_->requests_shed.Add({{"capability", name}, {"reason", "deadline"}});
  out.mailbox_ = &impl_->mailbox_depth.Add({{"capability", name}});
  return out;
}

void shedding_metrics::mailbox_depth(std::size_t depth) {
  if (mailbox_) mailbox_->Set(static_cast<double>(depth));
}

void shedding_metrics::shed(bool deadline) {
  if (auto c = deadline ? deadline_ : queue_time_) c->Increment();
}

void breaker_metrics::entered(int state) {
  if (state < 0 || state > 2 || !state_) return;
  state_->Set(state);
  entered_[state]->Increment();
}

void saga_metrics::finished(bool completed, double seconds) {
  if (auto c = completed ? completed_ : compensated_) c->Increment();
  if (auto h = completed ? completed_seconds_ : compensated_seconds_) h->Observe(seconds);
}

call_metrics metrics::for_callee(std::string_view callee) {
  std::string name{callee};
  call_metrics out;
  const char* outcomes[] = {"ok", "error", "no_answer", "refused"};
  for (int i = 0; i < 4; ++i)
    out.outcomes_[i] = &impl_->calls.Add({{"callee", name}, {"outcome", outcomes[i]}});
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  out.seconds_ = &impl_->call_seconds.Add({{"callee", name}}, buckets);
  return out;
}

void call_metrics::counted(outcome o, double seconds) const {
  auto i = static_cast<int>(o);
  if (!outcomes_[i]) return;
  outcomes_[i]->Increment();
  if (o != outcome::refused && seconds_) seconds_->Observe(seconds);
}

commit_metrics metrics::for_database(std::string_view database) {
  std::string name{database};
  commit_metrics out;
  static const prometheus::Histogram::BucketBoundaries seconds{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
  static const prometheus::Histogram::BucketBoundaries sizes{1, 2, 4, 8, 16, 32, 64, 128};
  out.seconds_ = &impl_->commit_seconds.Add({{"database", name}}, seconds);
  out.batch_ = &impl_->commit_batch.Add({{"database", name}}, sizes);
  return out;
}

void commit_metrics::committed(std::size_t requests, double seconds) const {
  if (seconds_) seconds_->Observe(seconds);
  if (batch_) batch_->Observe(static_cast<double>(requests));
}

void saga_metrics::retried() {
  if (retries_) retries_->Increment();
}

void saga_metrics::stuck_changed(int delta) {
  if (stuck_) stuck_->Increment(static_cast<double>(delta));
}

void saga_metrics::recovered() {
  if (recovered_) recovered_->Increment();
}

void subscription_metrics::progress(std::int64_t applied, std::int64_t newest) {
  if (applied_) applied_->Set(static_cast<double>(applied));
  if (newest_) newest_->Set(static_cast<double>(newest));
}

fixed_counter metrics::counter(std::string_view name, std::string_view help, std::string_view label,
                               const std::vector<std::string>& values) {
  auto& family = prometheus::BuildCounter()
                     .Name(std::string(name))
                     .Help(std::string(help))
                     .Register(*impl_->registry);
  fixed_counter out;
  for (auto& value : values) out.series_.push_back(&family.Add({{std::string(label), value}}));
  return out;
}

void fixed_counter::increment(std::size_t value_index) {
  if (value_index < series_.size()) series_[value_index]->Increment();
}

std::string metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, impl_->registry->Collect());
  return out.str();
}

}  // namespace troupe
