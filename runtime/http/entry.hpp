// What makes a capability its node's HTTP entry (the shop's gateway). The node opens the
// API listener for it, hands it every request, and gives it the route table of every
// hosted capability that declares routes, which it calls; its own settings say how that
// listener verifies bearer tokens and speaks TLS and CORS. A capability that is no HTTP
// entry leaves capability::http_entry empty, and nothing of this reaches it.
#pragma once

#include <any>
#include <functional>
#include <memory>

#include "runtime/http/cors.hpp"
#include "runtime/http/router.hpp"
#include "runtime/http/tls.hpp"
#include "runtime/security/key_source.hpp"
#include "runtime/security/token_verifier.hpp"

namespace troupe {

// What an HTTP entry's settings say about the API listener its node opens.
struct entry_listener {
  security::auth_config auth;  // where the key that verifies bearer tokens comes from
  tls_settings tls;            // HTTPS when it names a certificate
  cors_policy cors;            // which browser origins may call the API
};

// The descriptor's part for an HTTP entry (capability::http_entry). Its node needs an
// "http" address, and it calls every hosted capability with routes besides what it names.
struct http_entry {
  // The API listener's settings in the entry's typed settings (capability::read_settings's
  // result). The node loads the token key and the TLS files before it starts anything (a bad
  // one stops it with exit 2), and `troupe token` mints tokens with the same key.
  std::function<const entry_listener*(const std::any& settings)> listener_of;
};

// What the node gives an HTTP entry's spawn (capability_context::http_entry).
struct http_entry_context {
  std::shared_ptr<const router> routes;                      // the routes of what it calls
  std::shared_ptr<const security::token_verifier> verifier;  // built from listener_of
};

}  // namespace troupe
