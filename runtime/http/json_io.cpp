#include "runtime/http/json_io.hpp"

#include <nlohmann/json.hpp>

#include "runtime/core/json.hpp"
#include "runtime/observability/log.hpp"

namespace troupe {

http_response error_response(errc code, std::string_view message, std::string_view request_id,
                             std::string_view field, std::chrono::seconds retry_after) {
  nlohmann::json err = {{"code", code_name(code)}, {"message", message}};
  if (!field.empty()) err["field"] = field;
  if (!request_id.empty()) err["trace_id"] = request_id;  // the request id is its trace id
  http_response res;
  res.status = http_status(code);
  res.body = dump_json(nlohmann::json{{"error", std::move(err)}});
  if (retry_after.count() > 0)
    res.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
  return res;
}

http_response error_response(const caf::error& err, std::string_view request_id) {
  auto info = describe(err);
  if (info.internal()) {
    // The request id is the request's trace id (http/message.hpp).
    log_error("http", "request " + std::string(request_id) + ": " + info.message, {request_id, {}});
    return error_response(errc::internal,
                          "internal error; the server log has the details under this trace id",
                          request_id);
  }
  return error_response(info.code, info.message, request_id, info.field, info.retry_after);
}

http_response json_response(int status, const nlohmann::json& body) {
  http_response res;
  res.status = status;
  res.body = dump_json(body);
  return res;
}

caf::error parse_json_body(const http_request& req, nlohmann::json& out) {
  if (json_nesting_depth(req.body, max_json_depth + 1) > max_json_depth)
    return make_error(errc::invalid_json, "the body nests arrays and objects deeper than " +
                                              std::to_string(max_json_depth) + " levels");
  try {
    out = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::exception& e) {  // out_of_range too: 1e999
    return make_error(errc::invalid_json, std::string("the body is not valid JSON: ") + e.what());
  }
  return {};
}

}  // namespace troupe
