// The topology file: which node hosts which capability, where nodes listen, and the
// settings of capabilities and of the runtime. Parsing validates everything before anything
// starts and reads every settings object into its typed form; errors name the file, the
// JSON path and the problem.
#pragma once

#include <any>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/calls/call_settings.hpp"
#include "runtime/cluster/cluster_settings.hpp"
#include "runtime/core/address.hpp"
#include "runtime/core/settings.hpp"
#include "runtime/http/admin.hpp"
#include "runtime/http/http_settings.hpp"
#include "runtime/node/capability.hpp"
#include "runtime/observability/log.hpp"
#include "runtime/observability/tracing.hpp"
#include "runtime/storage/database_checker.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace troupe {

struct node_spec {
  std::string name;
  std::optional<address> listen;  // node-to-node (CAF middleman)
  // /health, /ready, /metrics, /sagas. Written as a port alone ("9101" or ":9101") it is
  // 127.0.0.1's: reachable from the node's own host (and pod) only.
  std::optional<address> admin;
  std::optional<address> http;  // API listener (nodes hosting the HTTP entry)
  std::vector<std::string> capabilities;
  std::string failpoints;  // TROUPE_FAILPOINTS syntax; for tests (see core/failpoint.hpp)
};

struct topology {
  std::string name;
  std::string data_dir;
  std::map<std::string, node_spec> nodes;
  std::map<std::string, std::any> settings;  // every hosted capability -> its typed settings
  // every hosted capability -> its "supervision" settings (defaults when absent)
  std::map<std::string, supervision_settings> supervision;
  std::map<std::string, std::vector<std::string>> calls;  // hosted capability -> what it calls
  http_settings http;
  health_settings health;
  call_settings call_limits;
  failure_detection detection;
  // "admin": {"auth": {...}}: when given, admin listeners ask for a bearer token verified
  // with this key (the keys of the gateway's "auth"; secret_env defaults to
  // TROUPE_ADMIN_SECRET; generate_secret is refused: every node needs the same key).
  std::optional<security::auth_config> admin_auth;
  cluster_tls node_tls;  // "security": {"tls": ...}
  log_settings logs;     // "logs": {"level": "info", "format": "json", "access": false}
  // "tracing": {"exporter": "otlp", "endpoint": "http://127.0.0.1:4318/v1/traces", ...}
  // ("{data}" and "{node}" in "file" become the data directory and the node's name)
  tracing::settings tracing;
  // "permissions": {"inventory": {"orders": ["reserve_stock", ...], "gateway": ["*"]}}:
  // callee -> caller -> operations. Absent: every capability may call everything. Present:
  // a callee not listed takes calls from nobody but itself.
  std::optional<std::map<std::string, std::map<std::string, std::set<std::string>>>> permissions;

  // The node hosting `capability`, or nullptr.
  const node_spec* host_of(const std::string& capability) const;
};

class topology_error : public std::runtime_error {
 public:
  topology_error(std::string file, std::string path, std::string problem);
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_, path_, problem_;
};

// Parses and validates; throws topology_error. `file` only labels messages.
topology parse_topology(const std::string& text, const std::string& file,
                        const std::vector<capability>& known);

// Reads `file` and parses it.
topology load_topology(const std::string& file, const std::vector<capability>& known);

// The placement plan as people read it (for `troupe topology check`).
std::string describe_plan(const topology& topo);

}  // namespace troupe
