// The users capability's contract: its messages and typed handle. Other capabilities call it
// through their caller (runtime/calls), never by spawning it or knowing its node.
#pragma once

#include <cstdint>
#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <nlohmann/json_fwd.hpp>

#include "domain/users/user_rules.hpp"
#include "runtime/core/atoms.hpp"
#include "runtime/core/call_context.hpp"
#include "runtime/events/event.hpp"
#include "runtime/node/capability.hpp"
#include "runtime/observability/metrics.hpp"
#include "runtime/supervision/child.hpp"

namespace troupe::domain::users {

// The domain's user is the protocol's user; its wire form is defined here, next to the
// messages, so the domain stays free of CAF.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user& x) {
  return f(caf::meta::type_name("users.user"), x.id, x.name, x.email, x.created_at_ms);
}

}  // namespace troupe::domain::users

namespace troupe::users {

using user = domain::users::user;

// Creates a user; an empty id lets the capability choose one. Answers the stored user, or
// invalid_argument naming the field, or already_exists when the id is taken (nothing is
// overwritten), or deadline_exceeded when the budget ran out before the work started.
struct create_user {
  call_context ctx;
  std::string id;
  std::string name;
  std::string email;
};

// Reads one user. Answers the user, or not_found, or deadline_exceeded.
struct get_user {
  call_context ctx;
  std::string id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_user& x) {
  return f(caf::meta::type_name("users.create_user"), x.ctx, x.id, x.name, x.email);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_user& x) {
  return f(caf::meta::type_name("users.get_user"), x.ctx, x.id);
}

// Its event: a user was created. Orders keeps the customers it learns from it (for the
// fallback when users cannot answer). Its payload is {"name", "email"} (users.cpp).
struct user_created {
  static constexpr const char* type = "UserCreated";
  std::string name;
  std::string email;
};
void to_json(nlohmann::json& j, const user_created& e);
void from_json(const nlohmann::json& j, user_created& e);

using users_actor =
    caf::typed_actor<caf::replies_to<create_user>::with<user>,
                     caf::replies_to<get_user>::with<user>,
                     // Its outbox: user_created events.
                     caf::replies_to<events::pull_events>::with<events::events_page>,
                     // The capability's /health line.
                     caf::replies_to<health_atom>::with<health_report>>;

// Topology: "capabilities": {"users": {"cache_entries": 10000}}.
struct users_settings {
  std::size_t cache_entries = 10000;  // users kept in memory; 0 disables the cache
};

struct users_config {
  std::string database_path;
  // The store does blocking SQLite work, so it runs on a thread of its own. Deterministic
  // tests turn this off to run everything on the test coordinator.
  bool detached_store = true;
  // Users kept in the front's memory (least recently used evicted), so hot reads skip the
  // store's thread. Coherent because the front is its store's only writer. 0 disables.
  std::size_t cache_entries = 10000;
  // Under a supervisor (capability_context::supervise): the store is a child restarted on its
  // own under one-for-one. Empty: the store is spawned once and linked to the front.
  supervise_function supervise;
  // Work that waited longer than its bound in queues is shed (core/error.hpp queue_bound).
  queue_bound shedding{};
  commit_metrics commits{};  // its store's group commits (metrics::for_database)
};

// Spawns the capability: a front actor (rules, deadlines, cache) linked to its store actor.
users_actor spawn_users(caf::actor_system& system, const users_config& config);

void register_users_types(caf::actor_system_config& cfg);

// The capability as the runtime hosts it: name "users", calls nothing, keeps users.db,
// serves POST /api/users and GET /api/users/{id} (users_routes.hpp).
capability users_capability();

}  // namespace troupe::users
