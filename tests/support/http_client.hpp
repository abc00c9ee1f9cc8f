// A small blocking HTTP/1.1 client over a real socket (Beast), keeping its connection alive.
#pragma once

#include <cstdint>
#include <map>
#include <string>
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

  http_result request(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      std::vector<std::pair<std::string, std::string>> headers = {});
  http_result get(const std::string& target) { return request("GET", target); }
  http_result post_json(const std::string& target, const std::string& body) {
    return request("POST", target, body, {{"Content-Type", "application/json"}});
  }
  int connects() const { return connects_; }  // how many TCP connections it opened

 private:
  struct impl;
  impl* impl_;
  int connects_ = 0;
};

}  // namespace troupe::test
