#include "runtime/cluster/cluster_settings.hpp"

namespace troupe {

failure_detection read_failure_detection(settings_reader& r) {
  failure_detection d;
  d.heartbeat = r.milliseconds("heartbeat_ms", 50, 60'000, d.heartbeat.count());
  d.connection_timeout =
      r.milliseconds("connection_timeout_ms", 100, 600'000, d.connection_timeout.count());
  d.drain = r.milliseconds("drain_ms", 0, 600'000, d.drain.count());
  d.leave = r.milliseconds("leave_ms", 0, 10'000, d.leave.count());
  if (d.connection_timeout < 2 * d.heartbeat)
    throw settings_error(r.path_of("connection_timeout_ms"),
                         "must be at least twice heartbeat_ms, or a healthy idle peer is "
                         "dropped between two heartbeats");
  return d;
}

cluster_tls read_cluster_security(settings_reader& r) {
  auto tls = r.section("tls");
  cluster_tls t;
  t.certificate_file = tls.optional_text("certificate_file", 4096, "");
  t.key_file = tls.optional_text("key_file", 4096, "");
  t.ca_file = tls.optional_text("ca_file", 4096, "");
  t.key_passphrase_env = tls.optional_text("key_passphrase_env", 128, "");
  bool any = !t.certificate_file.empty() || !t.key_file.empty() || !t.ca_file.empty() ||
             !t.key_passphrase_env.empty();
  // CAF's module falls back to anonymous TLS (encrypted, nobody authenticated) when files
  // are missing: a partial configuration is refused instead.
  if (any)
    for (auto [key, value] : {std::pair{"certificate_file", &t.certificate_file},
                              std::pair{"key_file", &t.key_file}, std::pair{"ca_file", &t.ca_file}})
      if (value->empty())
        throw settings_error(tls.path_of(key),
                             "missing: node-to-node TLS needs certificate_file, key_file and "
                             "ca_file (a partial setting would leave peers unauthenticated)");
  tls.finish();
  return t;
}

cluster_tls cluster_tls::for_node(const std::string& node) const {
  auto subst = [&](const std::string& path) { return with_placeholder(path, "{node}", node); };
  return {subst(certificate_file), subst(key_file), subst(ca_file), key_passphrase_env};
}

}  // namespace troupe
