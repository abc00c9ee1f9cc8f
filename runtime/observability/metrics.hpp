// A node's Prometheus registry (prometheus-cpp core) and the metrics the runtime keeps.
// Every label value comes from a fixed set (methods, declared route templates, statuses the
// code produces): nothing a client sends can add series.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace troupe {

class metrics {
 public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  // For capabilities that add their own families.
  prometheus::Registry& registry();

  // http_requests_total and http_request_duration_seconds by method, route template, status.
  // `method` and `route` must come from fixed sets (see http/message.hpp and the router).
  void observe_http(std::string_view method, std::string_view route, int status, double seconds);

  // http_open_connections (gauge), by listener ("api", "admin").
  void connections_changed(std::string_view listener, int delta);
  // http_accept_pauses_total: times a listener stopped accepting (connection cap or no file
  // descriptors left).
  void accept_paused(std::string_view listener);

  // The Prometheus text exposition format.
  std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe
