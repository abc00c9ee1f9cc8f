// The users capability's contract: its messages and typed handle. Callers obtain the handle
// from the directory (subscribe to "users"), never by spawning.
#pragma once

#include <cstdint>
#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/atoms.hpp"
#include "runtime/call_context.hpp"
#include "runtime/capability.hpp"

namespace troupe::users {

// A stored user.
struct user {
  std::string id;
  std::string name;
  std::string email;
  std::int64_t created_at_ms = 0;  // Unix epoch milliseconds, set by the store
};

// Creates a user; an empty id lets the capability choose one. Answers the stored user, or
// invalid_argument naming the field, or already_exists when the id is taken.
struct create_user {
  call_context ctx;
  std::string id;
  std::string name;
  std::string email;
};

// Reads one user. Answers the user, or not_found.
struct get_user {
  call_context ctx;
  std::string id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user& x) {
  return f(caf::meta::type_name("users.user"), x.id, x.name, x.email, x.created_at_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_user& x) {
  return f(caf::meta::type_name("users.create_user"), x.ctx, x.id, x.name, x.email);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_user& x) {
  return f(caf::meta::type_name("users.get_user"), x.ctx, x.id);
}

using users_actor = caf::typed_actor<caf::replies_to<create_user>::with<user>,
                                     caf::replies_to<get_user>::with<user>,
                                     // The capability's /health lines: itself and its database.
                                     caf::replies_to<health_atom>::with<health_report>>;

struct users_config {
  std::string database_path;
  // The store does blocking SQLite work, so it runs on a thread of its own. Deterministic
  // tests turn this off to run everything on the test coordinator.
  bool detached_store = true;
  // Users kept in the front's memory (least recently used evicted), so hot reads skip the
  // store's thread. Coherent because the front is its store's only writer. 0 disables.
  std::size_t cache_entries = 10000;
};

// Spawns the capability: a front actor (rules, deadlines, cache) linked to its store actor.
users_actor spawn_users(caf::actor_system& system, const users_config& config);

void register_users_types(caf::actor_system_config& cfg);

// The capability as the runtime hosts it: name "users", calls nothing. Settings (topology
// "capabilities": {"users": {...}}): "cache_entries" (default 10000, 0 disables).
capability users_capability();

}  // namespace troupe::users
