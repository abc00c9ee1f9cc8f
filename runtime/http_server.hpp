// An asynchronous HTTP/1.1 server (Boost.Beast). Sessions do transport only: read a request
// within the limits, hand it to the handler, write the answer when the handler replies.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "runtime/http.hpp"
#include "runtime/topology.hpp"

namespace troupe {

class metrics;

struct http_limits {
  std::size_t body_bytes = 1 << 20;        // 413 above
  std::size_t header_bytes = 16 << 10;     // 431 above
  std::chrono::seconds idle_timeout{30};   // waiting for (the rest of) a request
  std::chrono::seconds write_timeout{30};  // writing a response to a slow reader
};

class http_server {
 public:
  // Binds and starts serving on `threads` I/O threads. Throws std::runtime_error naming
  // the address when it cannot bind.
  http_server(const address& where, http_handler handler, http_limits limits, metrics* sink,
              int threads);
  ~http_server();  // stops
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  std::uint16_t port() const;  // the bound port (useful with port 0)
  // Stops accepting, lets requests already received finish for up to `grace` (their
  // responses close the connection), then stops and joins the I/O threads. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds{0});
  int in_flight() const;  // requests received and not yet answered

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe
