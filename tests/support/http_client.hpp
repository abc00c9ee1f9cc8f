// HTTP over real sockets for tests: a small blocking HTTP/1.1 client that keeps its
// connection alive, and a raw connection for writing whatever bytes an attacker would.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe::test {

struct http_result {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::vector<int> interim;                    // 1xx responses seen before this one
};

class http_client {
 public:
  // `where` is "host:port".
  explicit http_client(std::string where);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Sends one request and reads its answer. A kept-alive connection the server has closed
  // is noticed before sending and replaced. A request that fails after it may have reached
  // the server is retried once only when it is a GET or HEAD (safe to repeat); any other
  // failure is thrown, so a POST is never sent twice behind the caller's back.
  http_result request(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      std::vector<std::pair<std::string, std::string>> headers = {});
  http_result get(const std::string& target) { return request("GET", target); }
  http_result post_json(const std::string& target, const std::string& body) {
    return request("POST", target, body, {{"Content-Type", "application/json"}});
  }
  int connects() const { return connects_; }  // how many TCP connections it opened
  // The bearer token sent with every request that has no Authorization header of its own:
  // admin_token() (support/auth.hpp) until changed; empty: none.
  void use_token(std::string token) { token_ = std::move(token); }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  int connects_ = 0;
  std::string token_;
};

// A TCP connection that sends exactly the bytes it is given.
class raw_connection {
 public:
  explicit raw_connection(const std::string& where);  // "host:port"; throws when refused
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  void send(std::string_view bytes);
  // Reads one response (1xx included) within `deadline`; throws on timeout or close.
  http_result read(std::chrono::milliseconds deadline = std::chrono::seconds{10});
  // Whether a response (or the close) is ready to read within `wait`.
  bool readable(std::chrono::milliseconds wait);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe::test
