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

#include "runtime/core/address.hpp"
#include "runtime/core/circuit_breaker.hpp"
#include "runtime/node/capability.hpp"
#include "runtime/observability/log.hpp"
#include "runtime/observability/tracing.hpp"
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

// "http": limits of every HTTP listener.
struct http_settings {
  int max_connections = 10000;
  std::size_t header_bytes = 16 << 10;
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds header_timeout{10000};  // "header_timeout_ms"
  std::int64_t min_body_rate = 1024;                // "min_body_rate", bytes per second
  // "route_timeouts_ms": {"POST /api/orders": 15000}: a declared route's budget, overriding
  // what the route declares.
  std::map<std::string, std::chrono::milliseconds> route_timeouts;
};

// "health": how /health gets its facts.
struct health_settings {
  std::chrono::milliseconds database_check_interval{60000};
};

// "cluster": how nodes notice a peer that went silent without closing its connections (a
// hung process, a cut link). Every node sends a heartbeat every `heartbeat`; a connection
// with no traffic for `connection_timeout` is closed, and the peer's capabilities are marked
// down (a killed peer is seen at once, by its connections closing). So a silent peer is
// detected within about connection_timeout + heartbeat. The same on every node: a node with a
// timeout and a peer without heartbeats would drop the healthy idle peer.
struct failure_detection {
  std::chrono::milliseconds heartbeat{500};
  std::chrono::milliseconds connection_timeout{2000};
  // On SIGTERM: how long requests in flight and running work (sagas) may take to finish
  // before the node stops its actors anyway ("drain_ms").
  std::chrono::milliseconds drain{10000};
  // Then, with its actors stopped, how long a node that peers call keeps its connections
  // open ("leave_ms"): peers see the handles go and drop them, and calls already on the way
  // are bounced (503, nothing done) rather than lost with the connection (504).
  std::chrono::milliseconds leave{200};
};

// "calls": the caller's bounds and circuit breakers.
struct call_settings {
  int max_in_flight = 1024;  // per callee, from one node
  breaker_settings breaker;  // every callee's, unless per_callee says otherwise
  // Work a capability picks up after waiting longer than this in its queues is shed (503 +
  // Retry-After, core/error.hpp refuse_late). 0: no bound.
  std::chrono::milliseconds max_queue{1000};
  struct callee_settings {
    breaker_settings breaker;
    std::chrono::milliseconds max_queue;
  };
  std::map<std::string, callee_settings> per_callee;

  const breaker_settings& breaker_for(const std::string& callee) const {
    auto it = per_callee.find(callee);
    return it == per_callee.end() ? breaker : it->second.breaker;
  }
  std::chrono::milliseconds max_queue_for(const std::string& callee) const {
    auto it = per_callee.find(callee);
    return it == per_callee.end() ? max_queue : it->second.max_queue;
  }
};

// "security": {"tls": {...}}: node-to-node traffic over TLS (CAF's OpenSSL module), every
// node proving itself with a certificate of the cluster's own authority and accepting only
// peers that do (mutual TLS). "{node}" in a path stands for the node's name. All three files
// or none; the node checks them before it starts.
struct cluster_tls {
  std::string certificate_file;    // this node's certificate, issued by ca_file's authority
  std::string key_file;            // its private key (mode 0600 or stricter)
  std::string ca_file;             // the cluster's authority: the only one peers may come from
  std::string key_passphrase_env;  // the variable holding the key's passphrase, if encrypted

  bool enabled() const { return !certificate_file.empty(); }
  // The same with "{node}" replaced by `node`.
  cluster_tls for_node(const std::string& node) const;
};

// `text` with every `placeholder` ("{node}") replaced by `value`.
std::string with_placeholder(std::string text, std::string_view placeholder,
                             std::string_view value);

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
