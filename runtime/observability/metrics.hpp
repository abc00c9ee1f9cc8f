// A node's Prometheus registry (prometheus-cpp core) and the metrics the runtime keeps.
// Every label value comes from a fixed set (methods, declared route templates, statuses the
// code produces): nothing a client sends can add series.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
template <typename T>
class Family;
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace troupe {

// One listener's series, resolved once when it starts: updating them takes no lock and
// allocates nothing, also when the process is out of memory or descriptors.
class listener_metrics {
 public:
  void connections_changed(int delta);  // http_open_connections
  void accept_paused();                 // http_accept_pauses_total

 private:
  friend class metrics;
  prometheus::Gauge* open_ = nullptr;
  prometheus::Counter* pauses_ = nullptr;
};

// One saga definition's series, resolved once: sagas_finished_total{definition, outcome},
// saga_step_retries_total{definition}, sagas_stuck{definition} (now), and
// saga_recovered_total{definition}. Thread-safe; a default-constructed one counts nothing.
class saga_metrics {
 public:
  void finished(bool completed);
  void retried();
  void stuck_changed(int delta);
  void recovered();

 private:
  friend class metrics;
  prometheus::Counter* completed_ = nullptr;
  prometheus::Counter* compensated_ = nullptr;
  prometheus::Counter* retries_ = nullptr;
  prometheus::Gauge* stuck_ = nullptr;
  prometheus::Counter* recovered_ = nullptr;
};

// A subscription's position: events_applied_offset and events_producer_offset (the lag is
// their difference), by subscription name.
class subscription_metrics {
 public:
  void progress(std::int64_t applied, std::int64_t newest);

 private:
  friend class metrics;
  prometheus::Gauge* applied_ = nullptr;
  prometheus::Gauge* newest_ = nullptr;
};

// A callee's circuit breaker (core/circuit_breaker.hpp): call_breaker_state{callee} and
// call_breaker_transitions_total{callee, to}. Thread-safe; a default-constructed one counts
// nothing.
class breaker_metrics {
 public:
  void entered(int state);  // circuit_breaker::state as an integer

 private:
  friend class metrics;
  prometheus::Gauge* state_ = nullptr;
  prometheus::Counter* entered_[3] = {nullptr, nullptr, nullptr};
};

// A capability's supervision: capability_up{capability} (1 serving or restarting, 0 given
// up) and capability_restarts_total{capability, actor} ("all" for a whole restart; actor
// names come from code). Thread-safe; a default-constructed one counts nothing.
class supervision_metrics {
 public:
  void up(bool is_up);
  void restarted(std::string_view actor);

 private:
  friend class metrics;
  prometheus::Gauge* up_ = nullptr;
  prometheus::Family<prometheus::Counter>* restarts_ = nullptr;
  std::string capability_;
};

// A capability's load shedding (core/error.hpp queue_bound): requests_shed_total{capability,
// reason}, reason "queue_time" (waited past its queue bound) or "deadline" (its deadline
// passed before the capability got to it). Thread-safe; a default-constructed one counts
// nothing.
class shedding_metrics {
 public:
  void shed(bool deadline);

 private:
  friend class metrics;
  prometheus::Counter* queue_time_ = nullptr;
  prometheus::Counter* deadline_ = nullptr;
};

class metrics {
 public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  // For capabilities that add their own families.
  prometheus::Registry& registry();

  // http_requests_total and http_request_duration_seconds by method, route template, status.
  // `method` and `route` must come from fixed sets and live as long as this object (string
  // literals, a router's templates): their addresses key a per-thread cache, so counting a
  // request takes no lock and allocates nothing once its series exists.
  void observe_http(std::string_view method, std::string_view route, int status, double seconds);

  // The series of the listener `name` ("api", "admin"): http_open_connections, and
  // http_accept_pauses_total (times it stopped accepting: connection cap or no descriptors).
  listener_metrics for_listener(std::string_view name);

  // `definition` and `subscription` come from code, never from a client.
  saga_metrics for_saga(std::string_view definition);
  subscription_metrics for_subscription(std::string_view subscription);
  // `callee` is a capability name from the topology.
  breaker_metrics for_breaker(std::string_view callee);
  // `capability` is a capability name from the topology.
  supervision_metrics for_capability(std::string_view capability);
  // `capability` is a capability name from the topology, or "gateway".
  shedding_metrics for_shedding(std::string_view capability);

  // The Prometheus text exposition format.
  std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe
