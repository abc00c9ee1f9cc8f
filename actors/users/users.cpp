#include <random>

#include <caf/all.hpp>

#include "actors/users/users_protocol.hpp"
#include "actors/users/users_routes.hpp"
#include "actors/users/users_store.hpp"
#include "domain/users/user_rules.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/failpoint.hpp"
#include "runtime/core/lru_cache.hpp"
#include "runtime/core/time.hpp"

namespace troupe::users {

namespace {

namespace rules = troupe::domain::users;

caf::error deadline_passed() {
  return make_error(errc::deadline_exceeded,
                    "the deadline passed before the users capability got to the request; "
                    "nothing was done");
}

// Turns exceptions that escape a handler (or the start) into an error naming the cause,
// which becomes the actor's exit reason and shows in the supervisor's log.
caf::error exit_reason_of(caf::scheduled_actor*, std::exception_ptr& eptr) {
  try {
    std::rethrow_exception(eptr);
  } catch (const std::exception& e) {
    return make_error(errc::internal, e.what());
  } catch (...) {
    return make_error(errc::internal, "unknown exception");
  }
}

struct store_state {
  static inline const char* name = "users.store";
  std::unique_ptr<user_store> db;
};

users_actor::behavior_type store_behavior(users_actor::stateful_pointer<store_state> self,
                                          std::string path) {
  self->set_exception_handler(exit_reason_of);
  self->state.db = std::make_unique<user_store>(path);
  return {
      [self](create_user& cmd) -> caf::result<user> {
        // Time queued behind other writes counts: late work is dropped, not done for nobody.
        if (past_deadline(cmd.ctx, self->clock().now())) return deadline_passed();
        user u{cmd.id, cmd.name, cmd.email, unix_now_ms()};
        try {
          if (!self->state.db->insert(u))
            return make_error(errc::already_exists, "a user with id '" + u.id + "' already exists",
                              "id");
        } catch (const sqlite::error& e) {
          return make_error(errc::internal, std::string("users store: ") + e.what());
        }
        return u;
      },
      [self](get_user& query) -> caf::result<user> {
        if (past_deadline(query.ctx, self->clock().now())) return deadline_passed();
        try {
          if (auto found = self->state.db->find(query.id)) return *found;
        } catch (const sqlite::error& e) {
          return make_error(errc::internal, std::string("users store: ") + e.what());
        }
        return make_error(errc::not_found, "no user with id '" + query.id + "'");
      },
      [](health_atom) {
        return health_report{{"users.store", true, "serving"}};
      },
  };
}

// Requests the front may have waiting on its store. Callers stop waiting at their deadline;
// this bounds what a stalled store (a lock, a slow disk) can pile up behind them.
constexpr std::size_t max_store_backlog = 4096;

struct front_state {
  static inline const char* name = "users.front";
  users_actor store;
  lru_cache<std::string, user> cache{0};
  std::size_t store_backlog = 0;
};

// Asks the store and answers the caller itself. Not `delegate`: a delegated reply comes from
// the detached store, which exposes it to remote callers, and CAF then keeps it alive while
// a peer holds the proxy, so the node's shutdown would wait for its thread forever.
template <class Message>
caf::result<user> ask_store(users_actor::stateful_pointer<front_state> self, Message msg) {
  auto& st = self->state;
  if (st.store_backlog >= max_store_backlog)
    return make_error(errc::unavailable,
                      "the users store is behind: " + std::to_string(st.store_backlog) +
                          " requests are waiting for it",
                      {}, std::chrono::seconds{1});
  ++st.store_backlog;
  auto rp = self->make_response_promise<user>();
  self->request(st.store, caf::infinite, std::move(msg))
      .then(
          [self, rp](user& u) mutable {
            --self->state.store_backlog;
            self->state.cache.put(u.id, u);
            rp.deliver(std::move(u));
          },
          [self, rp](caf::error& err) mutable {
            --self->state.store_backlog;
            rp.deliver(std::move(err));
          });
  return rp;
}

users_actor::behavior_type front_behavior(users_actor::stateful_pointer<front_state> self,
                                          users_actor store, std::size_t cache_entries) {
  self->set_exception_handler(exit_reason_of);
  self->state.store = store;
  self->state.cache = lru_cache<std::string, user>{cache_entries};
  // One fate: if the store dies the front goes too, and the supervisor restarts both.
  self->link_to(store);
  return {
      [self](create_user& cmd) -> caf::result<user> {
        if (past_deadline(cmd.ctx, self->clock().now())) return deadline_passed();
        failpoint("users.create");
        if (auto v = rules::check_new_user({cmd.id, cmd.name, cmd.email}))
          return make_error(errc::invalid_argument, v->field + " " + v->message, v->field);
        if (cmd.id.empty()) {
          thread_local std::mt19937_64 rng{std::random_device{}()};
          cmd.id = rules::make_user_id(rng());
        }
        return ask_store(self, std::move(cmd));
      },
      [self](get_user& query) -> caf::result<user> {
        if (past_deadline(query.ctx, self->clock().now())) return deadline_passed();
        failpoint("users.get");
        // An id that breaks the id rules cannot name a stored user.
        if (!rules::valid_user_id(query.id))
          return make_error(errc::not_found, "no user with id '" + query.id + "'");
        if (auto cached = self->state.cache.find(query.id)) return *cached;
        return ask_store(self, std::move(query));
      },
      // The database's integrity is checked by the node, off this capability's threads.
      [self](health_atom) {
        auto& cache = self->state.cache;
        return health_report{{"users", true,
                              "serving; " + std::to_string(cache.size()) + " of " +
                                  std::to_string(cache.capacity()) + " cache entries used"}};
      },
  };
}

}  // namespace

users_actor spawn_users(caf::actor_system& system, const users_config& config) {
  auto store = config.detached_store
                   ? system.spawn<caf::detached>(store_behavior, config.database_path)
                   : system.spawn(store_behavior, config.database_path);
  return system.spawn(front_behavior, store, config.cache_entries);
}

void register_users_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<user>("users.user");
  cfg.add_message_type<create_user>("users.create_user");
  cfg.add_message_type<get_user>("users.get_user");
}

capability users_capability() {
  capability cap;
  cap.name = "users";
  cap.has_database = true;
  cap.read_settings = [](settings_reader& s) -> std::any {
    users_settings out;
    out.cache_entries = static_cast<std::size_t>(
        s.integer("cache_entries", 0, 10'000'000, static_cast<std::int64_t>(out.cache_entries)));
    return out;
  };
  cap.register_types = register_users_types;
  cap.spawn = [](const capability_context& ctx) {
    users_config cfg{ctx.database_path, true, ctx.settings_as<users_settings>().cache_entries};
    return caf::actor_cast<caf::actor>(spawn_users(*ctx.system, cfg));
  };
  cap.routes = users_routes();
  return cap;
}

}  // namespace troupe::users
