#include "runtime/http/router.hpp"

#include <stdexcept>

namespace troupe {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool valid_param_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string route_name(const route& r) {
  return std::string(method_name(r.method)) + " " + r.path;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    auto hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(
    std::string_view target, std::size_t max_params) {
  std::vector<std::pair<std::string, std::string>> out;
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto piece = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (piece.empty()) continue;
    if (out.size() == max_params) return std::nullopt;
    auto eq = piece.find('=');
    std::string name, value;
    if (!percent_decode(piece.substr(0, eq), name)) return std::nullopt;
    if (eq != std::string_view::npos && !percent_decode(piece.substr(eq + 1), value))
      return std::nullopt;
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

router::router(std::vector<route> routes) : routes_(std::move(routes)) {
  for (auto& r : routes_) {
    if (r.path.empty() || r.path[0] != '/')
      throw std::invalid_argument("route '" + r.path + "': a path template starts with '/'");
    compiled c;
    for (auto segment : split_path(r.path)) {
      if (segment.empty())
        throw std::invalid_argument("route '" + r.path + "': empty path segment");
      if (segment.front() == '{') {
        if (segment.back() != '}' || !valid_param_name(segment.substr(1, segment.size() - 2)))
          throw std::invalid_argument("route '" + r.path +
                                      "': a parameter is a whole segment {name} of [a-z_]");
        c.segments.push_back({true, {}});
      } else {
        if (segment.find_first_of("{}") != std::string_view::npos)
          throw std::invalid_argument("route '" + r.path + "': braces inside a segment");
        c.segments.push_back({false, std::string(segment)});
      }
    }
    for (std::size_t i = 0; i < compiled_.size(); ++i)
      if (compiled_[i].segments == c.segments && routes_[i].method == r.method)
        throw std::invalid_argument("route " + std::string(method_name(r.method)) + " " + r.path +
                                    " is declared twice (also as " + routes_[i].path + ")");
    if (r.body_limit > max_body_) max_body_ = r.body_limit;
    compiled_.push_back(std::move(c));
  }
}

bool router::fits(const compiled& c, std::string_view path) {
  std::size_t start = 1, n = 0;  // after the leading '/'
  for (;; ++n) {
    auto slash = path.find('/', start);
    auto piece = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (n >= c.segments.size()) return false;
    auto& want = c.segments[n];
    if (want.parameter ? piece.empty() : piece != want.literal) return false;
    if (slash == std::string_view::npos) return n + 1 == c.segments.size();
    start = slash + 1;
  }
}

router::match router::find(http_method method, std::string_view path) const {
  match out;
  if (path.empty() || path[0] != '/') return out;
  // At the first segment where two templates differ, a literal beats a parameter
  // ("/users/me" before "/users/{id}").
  auto more_specific = [&](const compiled& a, const compiled& b) {
    for (std::size_t i = 0; i < a.segments.size(); ++i)
      if (a.segments[i].parameter != b.segments[i].parameter) return !a.segments[i].parameter;
    return false;
  };
  int best = -1, best_any = -1;  // with the method; with any method
  for (std::size_t i = 0; i < compiled_.size(); ++i) {
    if (!fits(compiled_[i], path)) continue;
    if (best_any < 0 || more_specific(compiled_[i], compiled_[best_any]))
      best_any = static_cast<int>(i);
    if (routes_[i].method == method && (best < 0 || more_specific(compiled_[i], compiled_[best])))
      best = static_cast<int>(i);
  }
  if (best_any < 0) return out;
  if (best < 0) {
    // The path exists, the method does not: every method any matching template takes.
    out.kind = match::method_not_allowed;
    out.label = routes_[best_any].path;
    for (std::size_t i = 0; i < compiled_.size(); ++i) {
      if (!fits(compiled_[i], path)) continue;
      std::string name = method_name(routes_[i].method);
      if (out.allow.find(name) == std::string::npos)
        out.allow += (out.allow.empty() ? "" : ", ") + name;
    }
    return out;
  }
  std::size_t start = 1;
  for (auto& want : compiled_[best].segments) {
    auto slash = path.find('/', start);
    auto piece = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    start = slash + 1;
    if (!want.parameter) continue;
    out.params.emplace_back();
    if (!percent_decode(piece, out.params.back())) return match{};
  }
  out.kind = match::found;
  out.index = best;
  out.label = routes_[best].path;
  return out;
}

}  // namespace troupe
