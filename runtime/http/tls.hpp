// TLS on an HTTP listener (the gateway's "tls" settings): certificate and key from files,
// checked before the node starts, and the HSTS header answers then carry.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace troupe {

// Topology: the gateway's "tls": {"certificate_file": "...", "key_file": "...",
// "key_passphrase_env": null, "min_version": "1.2", "hsts_max_age_s": 31536000,
// "hsts_include_subdomains": true}. No certificate_file: plain HTTP.
struct tls_settings {
  std::string certificate_file;     // PEM: the server certificate, then any intermediates
  std::string key_file;             // PEM private key; must not be readable by group or others
  std::string key_passphrase_env;   // the variable holding the key's passphrase, if encrypted
  std::string min_version = "1.2";  // "1.2" or "1.3"
  std::chrono::seconds hsts_max_age{31536000};  // 0: no Strict-Transport-Security header
  bool hsts_include_subdomains = true;

  bool enabled() const { return !certificate_file.empty(); }
};

// A loaded server context (OpenSSL), shared by every connection of a listener.
struct tls_context;

// Loads the certificate chain and key and checks that they belong together. Throws
// std::runtime_error naming the file and the problem: missing, unreadable, not PEM, a key
// others may read, a wrong or missing passphrase, a key that is not the certificate's.
// `prefix` names the settings in messages ("tls.", "security.tls.").
std::shared_ptr<tls_context> load_tls_context(const tls_settings& settings,
                                              const std::string& prefix = "tls.");

// For node-to-node TLS: the same checks of a node's certificate and key, and that the
// certificate was issued by the authority in `ca_file` (which must be a PEM certificate).
// Throws std::runtime_error naming the security.tls setting at fault.
void check_node_certificate(const tls_settings& node, const std::string& ca_file);

// The Strict-Transport-Security value, "max-age=31536000; includeSubDomains"; empty when off.
std::string hsts_value(const tls_settings& settings);

}  // namespace troupe
