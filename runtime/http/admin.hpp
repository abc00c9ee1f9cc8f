// What a node's listeners serve besides the API: /health, /ready, /metrics, and the sagas
// of the capabilities it hosts (GET /sagas?state=running|compensating|stuck|done&limit=N and
// GET /sagas/{id}).
//
// The admin listener (a node's "admin" address) serves all three with details. The API
// listener keeps /health and /ready for probes that hit the service port, as bare up/down
// answers; when the node has no admin listener (dev mode) it serves the details and
// /metrics itself.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime/cluster/directory_view.hpp"
#include "runtime/core/atoms.hpp"
#include "runtime/core/settings.hpp"
#include "runtime/http/message.hpp"
#include "runtime/security/key_source.hpp"
#include "runtime/security/token_verifier.hpp"

namespace troupe {

class metrics;
class router;
struct cors_policy;

// Answers health and readiness: asks every supervisor for its capability's report, keeps
// the latest database check of each database (sent as (health_atom, health_check) by the
// database checker), and asks the directory whether the node is ready. `databases` names
// the checks to expect.
// `saga_owners` are hosted capabilities whose entry actors answer saga::list_sagas and
// saga::find_saga; their handles come from `view`.
caf::actor spawn_admin(caf::actor_system& system, std::string node, caf::actor directory,
                       std::vector<std::pair<std::string, caf::actor>> supervisors,
                       std::vector<std::string> databases,
                       std::shared_ptr<directory_view> view = nullptr,
                       std::vector<std::string> saga_owners = {});

// Set when the node begins to shut down: /ready answers 503 from then on, so that load
// balancers stop sending traffic while in-flight requests drain.
using shutdown_flag = std::shared_ptr<std::atomic<bool>>;

struct admin_endpoints {
  caf::actor admin;  // spawn_admin
  metrics* sink = nullptr;
  shutdown_flag stopping;
};

// The admin listener: detailed /health and /ready, /metrics and /sagas. With `verifier`,
// /metrics needs a bearer token with the metrics:read scope, /sagas one with admin, and
// /health and /ready answer probes without a token bare (up or down), with an admin token
// in detail.
http_service make_admin_service(admin_endpoints admin,
                                std::shared_ptr<const security::token_verifier> verifier = nullptr);

// The scope that opens /metrics (and nothing else) on a guarded admin listener.
inline constexpr const char* metrics_scope = "metrics:read";

// The API listener: /health and /ready (detailed, plus /metrics and /sagas, when `details`),
// and the routes of `routes`, admitted here (404, 405, 413, 415 before any body is read) and
// handed to `entry`. /sagas here shows every customer's orders: it needs a bearer token with
// the admin scope, checked with `verifier` (null: the node verifies no tokens). With `cors`,
// preflights of the routes are answered here and every answer carries the CORS headers.
http_service make_api_service(admin_endpoints admin, bool details,
                              std::shared_ptr<const router> routes, http_handler entry,
                              std::shared_ptr<const security::token_verifier> verifier = nullptr,
                              std::shared_ptr<const cors_policy> cors = nullptr);

// Reads the topology's "admin": {"auth": {...}}, the key admin listeners verify bearer tokens
// with (the keys of security/key_source.hpp's auth_config; secret_env defaults to
// TROUPE_ADMIN_SECRET; generate_secret is refused: every node needs the same key). Throws
// settings_error.
security::auth_config read_admin_auth(settings_reader& r);

}  // namespace troupe
