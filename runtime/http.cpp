#include "runtime/http.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace troupe {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const std::string* http_request::header(std::string_view name) const {
  for (auto& [key, value] : headers)
    if (iequals(key, name)) return &value;
  return nullptr;
}

std::string_view http_request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

http_response json_error(int status, std::string_view code, std::string_view message,
                         std::string_view field, std::string route) {
  nlohmann::json err = {{"code", code}, {"message", message}};
  if (!field.empty()) err["field"] = field;
  http_response res;
  res.status = status;
  res.body =
      nlohmann::json{{"error", err}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.route = std::move(route);
  return res;
}

}  // namespace troupe
