// A node's Prometheus registry (prometheus-cpp core) and the HTTP metrics every node keeps.
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
  void observe_http(std::string_view method, std::string_view route, int status, double seconds);

  // The Prometheus text exposition format.
  std::string render() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe
