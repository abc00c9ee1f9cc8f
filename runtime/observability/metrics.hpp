// A node's Prometheus registry (prometheus-cpp core) and the metrics the runtime keeps.
// Every label value comes from a fixed set (methods, declared route templates, statuses the
// code produces): nothing a client sends can add series.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
template <typename T>
class Family;
class Counter;
class Gauge;
class Histogram;
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
// saga_duration_seconds{definition, outcome} (from its first log row to its final one),
// saga_step_retries_total{definition}, sagas_stuck{definition} (now), and
// saga_recovered_total{definition}. Thread-safe; a default-constructed one counts nothing.
class saga_metrics {
 public:
  void finished(bool completed, double seconds);
  void retried();
  void stuck_changed(int delta);
  void recovered();

 private:
  friend class metrics;
  prometheus::Counter* completed_ = nullptr;
  prometheus::Counter* compensated_ = nullptr;
  prometheus::Histogram* completed_seconds_ = nullptr;
  prometheus::Histogram* compensated_seconds_ = nullptr;
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
  // capability_mailbox_depth{capability}: messages waiting behind the one being handled.
  void mailbox_depth(std::size_t depth);

 private:
  friend class metrics;
  prometheus::Counter* queue_time_ = nullptr;
  prometheus::Counter* deadline_ = nullptr;
  prometheus::Gauge* mailbox_ = nullptr;
};

// Calls from this node to one capability (calls/caller.hpp), the callee's requests and
// errors as its callers see them: capability_calls_total{callee, outcome} and
// capability_call_duration_seconds{callee} (sent to answered). Outcomes: "ok"; "error" (it
// answered with one, a domain rejection say); "no_answer" (lost with its node or actor, or
// past its deadline); "refused" (never sent: unavailable, breaker open, in-flight bound).
// Thread-safe; a default-constructed one counts nothing.
class call_metrics {
 public:
  enum class outcome { ok, error, no_answer, refused };
  void counted(outcome o, double seconds) const;  // `seconds` is ignored for refused

 private:
  friend class metrics;
  prometheus::Counter* outcomes_[4] = {nullptr, nullptr, nullptr, nullptr};
  prometheus::Histogram* seconds_ = nullptr;
};

// One database's group commits (storage/write_batch.hpp): sqlite_commit_duration_seconds
// {database} (COMMIT, the fsync included) and sqlite_commit_batch_size{database} (requests a
// commit made durable). Thread-safe; a default-constructed one counts nothing.
class commit_metrics {
 public:
  void committed(std::size_t requests, double seconds) const;

 private:
  friend class metrics;
  prometheus::Histogram* seconds_ = nullptr;
  prometheus::Histogram* batch_ = nullptr;
};

// A capability's own counter with one label whose values are fixed in code (e.g.
// orders_processed_total{status}): resolved once, counted without a lock. Thread-safe; a
// default-constructed one counts nothing.
class fixed_counter {
 public:
  void increment(std::size_t value_index);

 private:
  friend class metrics;
  std::vector<prometheus::Counter*> series_;
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
  // `callee` is a capability name from the topology.
  call_metrics for_callee(std::string_view callee);
  // `database` is a file name from code ("orders.db"), never a path.
  commit_metrics for_database(std::string_view database);

  // A counter family `name` ("..._total") with one label taking only `values`; asking again
  // (after a restart) gives the same series.
  fixed_counter counter(std::string_view name, std::string_view help, std::string_view label,
                        const std::vector<std::string>& values);

  // The Prometheus text exposition format.
  std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe
