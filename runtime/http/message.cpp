#include "runtime/http/message.hpp"

#include <algorithm>
#include <cctype>

namespace troupe {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::pair<http_method, const char*> methods[] = {
    {http_method::get, "GET"},         {http_method::head, "HEAD"},
    {http_method::post, "POST"},       {http_method::put, "PUT"},
    {http_method::patch, "PATCH"},     {http_method::delete_, "DELETE"},
    {http_method::options, "OPTIONS"},
};

}  // namespace

http_method parse_method(std::string_view token) {
  // Methods are case-sensitive (RFC 9110 9.1): "get" is not GET.
  for (auto& [method, name] : methods)
    if (token == name) return method;
  return http_method::other;
}

const char* method_name(http_method method) {
  for (auto& [m, name] : methods)
    if (m == method) return name;
  return "OTHER";
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  return iequals(a, b);
}

const std::string* http_request::header(std::string_view name) const {
  for (auto& [key, value] : headers)
    if (iequals(key, name)) return &value;
  return nullptr;
}

std::string_view http_request::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

}  // namespace troupe
