// A node's Prometheus registry (prometheus-cpp core) and the metrics the runtime keeps.
// Every label value comes from a fixed set (methods, declared route templates, statuses the
// code produces): nothing a client sends can add series.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
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

  // The Prometheus text exposition format.
  std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe
