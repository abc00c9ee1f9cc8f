// HTTP as the rest of troupe sees it: plain structs, no Beast. The server turns wire
// requests into these and back; handlers answer through a callback, once, from any thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe {

struct http_request {
  std::string method;  // "GET"
  std::string target;  // "/api/users/42?x=1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of a header (case-insensitive name), or nullptr.
  const std::string* header(std::string_view name) const;
  // The target without its query string.
  std::string_view path() const;
};

struct http_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string route;  // route template for metrics, e.g. "/api/users/{id}"
};

// Answers a request. Thread-safe; the first call wins, later calls are ignored. If every
// copy is dropped without a call, the client gets a 500.
using http_reply = std::function<void(http_response&&)>;
using http_handler = std::function<void(http_request&&, http_reply)>;

// {"error":{"code":...,"message":...[,"field":...]}}
http_response json_error(int status, std::string_view code, std::string_view message,
                         std::string_view field = {}, std::string route = {});

}  // namespace troupe
