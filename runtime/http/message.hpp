// HTTP as the rest of troupe sees it: plain structs, no Beast. The server turns wire
// requests into these and back; handlers answer through a callback, once, from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe {

// The methods troupe serves. Anything else is `other`: answered 501 and counted under the
// one label "OTHER", so made-up method tokens cannot grow metrics.
enum class http_method : std::uint8_t { get, head, post, put, patch, delete_, options, other };

http_method parse_method(std::string_view token);
// "GET" ... "OPTIONS", and "OTHER" for other: the only method label values.
const char* method_name(http_method method);

// Header names and auth schemes compare without regard to ASCII case.
bool ascii_iequals(std::string_view a, std::string_view b);

struct http_request {
  http_method method = http_method::get;
  std::string target;  // "/api/users/42?x=1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The request's trace id (32 hex digits): its W3C traceparent's, or a new one. Sent back as
  // X-Request-Id and named in every error body.
  std::string id;
  // Of a traced listener (http_service::traced_as): the request's server span, under which
  // its calls are made; the tracestate that came with it; whether the trace is recorded.
  std::string span_id;
  std::string trace_state;
  bool sampled = false;
  std::string peer;  // the socket peer's address ("127.0.0.1", "::1"); empty if unknown
  std::chrono::steady_clock::time_point received_at;  // fully read: its deadline starts here
  int route = -1;                   // the router's index of the route that admitted it
  std::vector<std::string> params;  // the route's {name} values, in template order, decoded

  // The value of a header (case-insensitive name), or nullptr.
  const std::string* header(std::string_view name) const;
  // The target without its query string.
  std::string_view path() const;
};

struct http_response {
  int status = 200;
  std::string body;
  std::string content_type;  // empty: application/json (no allocation for the usual case)
  std::vector<std::pair<std::string, std::string>> headers;
};

// Answers a request. Thread-safe; the first call wins, later calls are ignored. If every
// copy is dropped without a call, the client gets a 500.
using http_reply = std::function<void(http_response&&)>;
using http_handler = std::function<void(http_request&&, http_reply)>;

// What a listener knows once the header of a request has arrived, before any body is read.
struct request_head {
  http_method method = http_method::other;
  std::string_view target;
  std::optional<std::string_view> content_type;
  bool has_body = false;  // Content-Length > 0 or chunked
  std::optional<std::uint64_t> content_length;
  std::string_view request_id;
  // For CORS (cors.hpp): Origin, Access-Control-Request-Method and -Headers; empty if absent.
  std::string_view origin;
  std::string_view preflight_method;
  std::string_view preflight_headers;
};

// A listener's decision about a request from its head alone.
struct admission {
  std::optional<http_response> refusal;        // answer this and read no body
  std::size_t body_limit = 0;                  // otherwise: read at most this much body
  std::string_view route_label = "unmatched";  // metrics: a template, an admin path, "unmatched"
  int route = -1;
  std::vector<std::string> params;
};

// What a listener serves: admission from the head (limits decided before the body is read),
// then the handler for the complete request.
struct http_service {
  std::function<admission(const request_head&)> admit;
  http_handler handle;
  std::size_t max_body = 0;  // the largest body_limit `admit` can grant
  // Adds headers every answer of this listener carries, refusals included (CORS), given the
  // request's Origin (empty when it had none). Empty: none.
  std::function<void(std::string_view origin, http_response&)> decorate;
  // Traced under this service name (observability/tracing.hpp): a W3C traceparent is taken
  // and a server span recorded per request. Empty: not traced (the admin listener).
  std::string traced_as;
  // One info line per answer on the log (component "access"), with its trace id.
  bool access_log = false;
};

}  // namespace troupe
