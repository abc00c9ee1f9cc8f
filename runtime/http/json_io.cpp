#include "runtime/http/json_io.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "runtime/core/json.hpp"
#include "runtime/observability/log.hpp"

namespace troupe {

namespace {

// Where byte `index` (0-based) of `text` is, for people: "line 2, column 7".
std::string position_of(std::string_view text, std::size_t index) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < index && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// What is wrong with a body the JSON parser refused, in our words (the parser's own text
// names its internals): where it stopped and what it found there.
std::string json_problem(std::string_view text, const nlohmann::json::exception& e) {
  if (text.empty()) return "the body is empty; it must be a JSON value";
  auto* parse = dynamic_cast<const nlohmann::json::parse_error*>(&e);
  if (!parse) return "the body is not valid JSON: a number is too large";
  // parse->byte counts from 1 and points at the last character read.
  auto index = parse->byte > 0 ? parse->byte - 1 : 0;
  if (index >= text.size())
    return "the body is not valid JSON: it ends before the value does (" +
           position_of(text, text.size()) + ")";
  auto c = static_cast<unsigned char>(text[index]);
  char shown[8];
  if (c >= 0x20 && c < 0x7f)
    std::snprintf(shown, sizeof shown, "'%c'", c);
  else
    std::snprintf(shown, sizeof shown, "0x%02X", c);
  return std::string("the body is not valid JSON: unexpected ") + shown + " at " +
         position_of(text, index);
}

http_response error_answer(int status, std::string_view name, std::string_view message,
                           std::string_view request_id, std::string_view field,
                           std::chrono::seconds retry_after) {
  nlohmann::json err = {{"code", name}, {"message", message}};
  if (!field.empty()) err["field"] = field;
  if (!request_id.empty()) err["trace_id"] = request_id;  // the request id is its trace id
  http_response res;
  res.status = status;
  res.body = dump_json(nlohmann::json{{"error", std::move(err)}});
  if (retry_after.count() > 0)
    res.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
  return res;
}

}  // namespace

http_response error_response(errc code, std::string_view message, std::string_view request_id,
                             std::string_view field, std::chrono::seconds retry_after) {
  return error_answer(http_status(code), code_name(code), message, request_id, field, retry_after);
}

http_response error_response(const error_info& info, std::string_view request_id) {
  if (info.internal()) {
    // The request id is the request's trace id (http/message.hpp).
    log_error("http", "request " + std::string(request_id) + ": " + info.message, {request_id, {}});
    return error_response(errc::internal,
                          "internal error; the server log has the details under this trace id",
                          request_id);
  }
  return error_answer(info.status, info.name, info.message, request_id, info.field,
                      info.retry_after);
}

http_response error_response(const caf::error& err, std::string_view request_id) {
  return error_response(describe(err), request_id);
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
    return make_error(errc::invalid_json, json_problem(req.body, e));
  }
  return {};
}

}  // namespace troupe
