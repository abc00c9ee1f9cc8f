// Where the gateway's token key comes from: the topology says where to look, never what the
// key is. A secret comes from an environment variable or a file; a public key from a file;
// in dev mode, when neither is given, a random secret is made once under the node's data
// directory (mode 0600) and reused, so `troupe token --data DIR` mints what the node accepts.
// Plain C++ over OpenSSL's random generator.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/core/settings.hpp"
#include "runtime/security/token_verifier.hpp"

namespace troupe::security {

// The topology's "capabilities": {"gateway": {"auth": {...}}}.
struct auth_config {
  std::string secret_env = "TROUPE_JWT_SECRET";  // read when set and not empty
  std::string secret_file;                       // used instead of the variable when given
  std::string public_key_file;                   // RS*/ES* algorithms: a PEM public key
  std::vector<std::string> algorithms{"HS256"};
  std::string issuer;    // checked when not empty
  std::string audience;  // checked when not empty
  std::chrono::seconds leeway{30};
  std::size_t cache_size = 1024;  // verified tokens remembered (token_verifier::verify)
  // No secret given: make one under the data directory instead of refusing to start. The
  // embedded dev topology turns this on; production topologies should name their secret.
  bool generate_secret = false;
};

// Reads an "auth" settings object (the keys above, null meaning "not given") over
// `defaults`; throws settings_error. `generate_secret` is refused unless `may_generate`.
auth_config read_auth_config(settings_reader r, auth_config defaults, bool may_generate = true);

// The file a generated secret lives in, under a node's data directory.
inline constexpr const char* generated_secret_file = "jwt-secret";

struct loaded_key {
  token_settings settings;
  std::string origin;      // for people: "environment variable TROUPE_JWT_SECRET", a path...
  bool generated = false;  // the dev secret under the data directory (made now or earlier)
};

// Resolves `config` into verifier settings, with `node_dir` (created if missing) as the home
// of a generated secret. Throws std::invalid_argument naming the setting or file at fault: no
// key at all, an unreadable file, a secret file or generated secret others may read, a key
// that does not fit the algorithms. The token_verifier built from the result may still refuse
// it (a secret under 32 bytes, a weak RSA key).
loaded_key load_key(const auth_config& config, const std::string& node_dir);

// Whether `path` (named `what` in messages) can serve as a key file: it exists, is a regular
// file and, when `secret`, neither group nor others may read it. Throws std::invalid_argument
// naming the problem; else returns its size in bytes. TLS keys are checked the same way
// (http/tls.hpp).
std::int64_t check_key_file(const std::string& path, const std::string& what, bool secret);

// "90", "90s", "15m", "1h", "7d" as seconds; throws std::invalid_argument otherwise.
std::chrono::seconds parse_duration(const std::string& text);

}  // namespace troupe::security
