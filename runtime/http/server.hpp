// An asynchronous HTTP/1.1 server (Boost.Beast). Sessions do transport only: read a head,
// ask the service whether and how much body to read, read it within limits, hand the
// request to the service, write the answer when it replies.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/core/address.hpp"
#include "runtime/http/message.hpp"

namespace troupe {

class metrics;
struct tls_context;  // tls.hpp

struct http_limits {
  std::size_t header_bytes = 16 << 10;             // 431 above
  std::chrono::milliseconds idle_timeout{30000};   // waiting for (the rest of) a request
  std::chrono::milliseconds write_timeout{30000};  // writing a response to a slow reader
  // Open connections; at the cap (or when the process runs out of file descriptors) the
  // listener stops accepting, with backoff, and resumes as connections close. New clients
  // wait in the kernel's backlog meanwhile.
  int max_connections = 10000;
  // Slow clients: once a request's first byte is in, its header must be complete within
  // header_timeout, and its body must arrive at min_body_rate bytes/s at least (with
  // header_timeout of slack). Otherwise the connection is closed (slowloris, slow POST).
  std::chrono::milliseconds header_timeout{10000};
  std::int64_t min_body_rate = 1024;
};

class http_server {
 public:
  // Binds and starts serving on `threads` I/O threads. `name` labels its metrics ("api",
  // "admin"). With `tls` (load_tls_context), it speaks HTTPS only, and answers carry HSTS.
  // Throws std::runtime_error naming the address when it cannot bind.
  http_server(const address& where, http_service service, http_limits limits, metrics* sink,
              std::string name, int threads, std::shared_ptr<tls_context> tls = nullptr);
  ~http_server();  // stops
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  std::uint16_t port() const;  // the bound port (useful with port 0)
  // Stops accepting, lets requests already received finish for up to `grace` (their
  // responses close the connection), then stops and joins the I/O threads. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds{0});
  int in_flight() const;  // requests received and not yet answered
  int open_connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Whether a header may go on the wire as is: a token name, and a value without CR, LF, NUL
// or other control characters (tab allowed).
bool valid_header(std::string_view name, std::string_view value);

}  // namespace troupe
