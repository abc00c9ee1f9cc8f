// The topology's "cluster" (failure detection, drain, leave) and "security" (node-to-node
// TLS) sections, read and checked: what every node of a cluster must agree on.
#pragma once

#include <chrono>
#include <string>

#include "runtime/core/settings.hpp"

namespace troupe {

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

// Reads "cluster". Throws settings_error.
failure_detection read_failure_detection(settings_reader& r);

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

// Reads "security" ({"tls": {...}}). Throws settings_error.
cluster_tls read_cluster_security(settings_reader& r);

}  // namespace troupe
