// A small OpenTelemetry collector for tests: it takes OTLP/HTTP JSON (POST /v1/traces) on a
// loopback port, as a real collector would, and keeps every span it was sent.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::test {

struct received_span {
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;  // empty: none
  std::string trace_state;
  std::string name;
  int kind = 0;         // 1 internal, 2 server, 3 client
  std::string service;  // resource service.name
  std::string node;     // resource service.instance.id
  bool error = false;   // status code 2
  std::string status_message;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  nlohmann::json attributes = nlohmann::json::object();  // key -> the value (ints as numbers)
};

class otlp_receiver {
 public:
  otlp_receiver();  // listening on 127.0.0.1, a free port
  ~otlp_receiver();
  otlp_receiver(const otlp_receiver&) = delete;
  otlp_receiver& operator=(const otlp_receiver&) = delete;

  std::string endpoint() const;  // "http://127.0.0.1:<port>/v1/traces"
  std::vector<received_span> spans() const;
  std::vector<received_span> spans_of(const std::string& trace_id) const;
  int requests() const { return requests_.load(); }
  int malformed() const { return malformed_.load(); }  // bodies that were not OTLP JSON
  // Answers every request with this status from now on (a collector refusing data).
  void answer_with(int status) { status_.store(status); }

 private:
  void serve();
  void take(const std::string& body);

  struct impl;
  std::unique_ptr<impl> impl_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> malformed_{0};
  std::atomic<int> status_{200};
  mutable std::mutex m_;
  std::vector<received_span> spans_;
  std::thread thread_;
};

}  // namespace troupe::test
