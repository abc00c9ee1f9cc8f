#include "runtime/http/http_settings.hpp"

namespace troupe {

http_settings read_http_settings(settings_reader& r,
                                 const std::function<bool(const std::string&)>& declared_route) {
  http_settings out;
  out.max_connections =
      static_cast<int>(r.integer("max_connections", 1, 1'000'000, out.max_connections));
  out.header_bytes = static_cast<std::size_t>(
      r.integer("header_bytes", 1024, 1 << 20, static_cast<std::int64_t>(out.header_bytes)));
  out.idle_timeout = r.milliseconds("idle_timeout_ms", 100, 3'600'000, out.idle_timeout.count());
  out.write_timeout = r.milliseconds("write_timeout_ms", 100, 3'600'000, out.write_timeout.count());
  out.header_timeout =
      r.milliseconds("header_timeout_ms", 100, 3'600'000, out.header_timeout.count());
  out.min_body_rate = r.integer("min_body_rate", 1, 1'000'000'000, out.min_body_rate);
  auto timeouts = r.section("route_timeouts_ms");
  for (auto& name : timeouts.keys()) {
    if (!declared_route(name))
      throw settings_error(timeouts.path_of(name),
                           "no capability declares the route '" + name +
                               "' (write it as METHOD and template: \"GET /api/users/{id}\")");
    out.route_timeouts[name] = timeouts.milliseconds(name, 1, 3'600'000, 0);
  }
  timeouts.finish();
  return out;
}

}  // namespace troupe
