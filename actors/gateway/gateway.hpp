// The gateway capability: the HTTP entry. It knows no capability by name: its route table is
// built from the routes the binary's capabilities declare (runtime/http/route.hpp), and it
// calls them through the runtime's caller, with each request's deadline starting when the
// request arrived at the node.
//
// It runs as a pool of workers behind one handle (CAF's actor_pool, round robin, dispatched
// in the sending I/O thread), each with its own caller, so requests spread over every
// scheduler thread instead of queueing behind one actor. The workers share one fate: if one
// crashes, the gateway restarts as a whole.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "runtime/calls/caller.hpp"
#include "runtime/cluster/directory_view.hpp"
#include "runtime/http/bearer.hpp"
#include "runtime/http/router.hpp"
#include "runtime/node/capability.hpp"
#include "runtime/security/key_source.hpp"
#include "runtime/security/rate_limiter.hpp"
#include "runtime/security/token_verifier.hpp"

namespace troupe::gateway {

// Topology: "capabilities": {"gateway": {"request_timeout_ms": 5000,
//   "max_request_timeout_ms": 60000, "workers": 0,
//   "retry": {"attempts": 3, "backoff_min_ms": 20, "backoff_max_ms": 500},
//   "auth": {"secret_env": "TROUPE_JWT_SECRET", "secret_file": null, "public_key_file": null,
//            "algorithms": ["HS256"], "issuer": null, "audience": null, "leeway_s": 30,
//            "cache_size": 1024, "generate_secret": false},
//   "rate_limit": {"per_client": {"requests": 100, "window_s": 900},
//                  "per_subject": {"requests": 1000, "window_s": 900},
//                  "trusted_proxies": [], "routes": {"POST /api/orders": {...}},
//                  "max_buckets": 100000},
//   "tls": {"certificate_file": null, "key_file": null, "key_passphrase_env": null,
//           "min_version": "1.2", "hsts_max_age_s": 31536000, "hsts_include_subdomains": true},
//   "cors": {"allowed_origins": [], "allowed_headers": [...], "exposed_headers": [...],
//            "allow_credentials": false, "max_age_s": 600}}}.
// (http/tls.hpp and http/cors.hpp say what each does.)
// Token buckets (security/rate_limiter.hpp): per client (the socket peer, or the address a
// trusted proxy forwarded), per authenticated subject, and per client on chosen routes.
struct rate_limits {
  security::rate_limit per_client{100, std::chrono::seconds{900}};
  security::rate_limit per_subject{1000, std::chrono::seconds{900}};
  std::vector<std::string> trusted_proxies;  // peer addresses whose X-Forwarded-For counts
  std::vector<std::pair<std::string, security::rate_limit>> routes;  // "POST /api/orders"
  // Shared by every worker, and kept across restarts of the gateway. Subjects have buckets of
  // their own, so that a flood of client addresses cannot push theirs out.
  std::shared_ptr<security::rate_limiter> buckets;          // per client and per route
  std::shared_ptr<security::rate_limiter> subject_buckets;  // per verified subject
};

struct gateway_settings {
  std::chrono::milliseconds request_timeout{5000};  // each request's budget, from arrival
  // The most a client may ask for with X-Request-Timeout-Ms.
  std::chrono::milliseconds max_request_timeout{60000};
  int workers = 0;  // 0: one per scheduler thread
  // For idempotent routes (see http/router.hpp route::idempotent): sends in all, backoff.
  calls::call_options::retry_policy retry{
      3, {std::chrono::milliseconds{20}, std::chrono::milliseconds{500}}};
  entry_listener listener;  // token key, TLS and CORS of the node's API listener
  rate_limits limits;
};

struct gateway_config {
  std::shared_ptr<directory_view> view;  // resolves every capability the routes name
  std::shared_ptr<const router> routes;
  std::chrono::milliseconds request_timeout{5000};
  int workers = 1;
  std::chrono::milliseconds max_request_timeout{60000};
  calls::call_options::retry_policy retry;
  queue_bound shedding;  // requests waiting longer for a worker are shed
  // Verifies every request's bearer token (routes that are not public). Null: nothing is
  // verified, every request is anonymous; only tests that spawn a gateway alone do that.
  std::shared_ptr<const security::token_verifier> verifier;
  rate_limits limits;  // its `routes` must name routes of `routes` (else spawn throws)
};

// The header a client shortens (or, up to the bound, lengthens) its request's budget with:
// whole milliseconds.
inline constexpr const char* request_timeout_header = "X-Request-Timeout-Ms";

// A request's budget: the route's own (`route_timeout`, or `fallback` when 0), replaced by
// the request's X-Request-Timeout-Ms when it has one, capped at `max`. A malformed header is
// an invalid_argument naming it.
caf::expected<std::chrono::milliseconds> request_budget(const http_request& request,
                                                        std::chrono::milliseconds route_timeout,
                                                        std::chrono::milliseconds fallback,
                                                        std::chrono::milliseconds max);

// The rate limits that apply to a request on route `route_index` before authentication
// (per client, per route) and after it (per subject), taken in that order; `subject` empty
// when anonymous. Refused: 429 rate_limited with Retry-After. Either way the headers to add to
// the answer (RateLimit-Limit, -Remaining, -Reset of the tightest bucket).
struct rate_check {
  std::optional<http_response> refusal;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::int64_t> remaining;  // of the tightest bucket, when any was taken
};
rate_check check_client_limits(const rate_limits& limits, const http_request& request,
                               const security::rate_limit* route_limit);
rate_check check_subject_limit(const rate_limits& limits, const http_request& request,
                               const std::string& subject, rate_check so_far);

// Answers http_exchange messages (runtime/http/exchange.hpp) and health_atom.
caf::actor spawn_gateway(caf::actor_system& system, gateway_config config);

capability gateway_capability();

}  // namespace troupe::gateway
