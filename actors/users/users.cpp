#include <random>

#include <nlohmann/json.hpp>

#include <caf/all.hpp>

#include "actors/users/users_protocol.hpp"
#include "actors/users/users_routes.hpp"
#include "actors/users/users_store.hpp"
#include "domain/users/user_rules.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/failpoint.hpp"
#include "runtime/core/lru_cache.hpp"
#include "runtime/core/time.hpp"
#include "runtime/events/outbox.hpp"
#include "runtime/events/store.hpp"
#include "runtime/events/typed_event.hpp"
#include "runtime/storage/store_link.hpp"

namespace troupe::users {

namespace {

namespace rules = troupe::domain::users;

struct store_state {
  static inline const char* name = "users.store";
  std::unique_ptr<events::store_core> core;
};

// The store: the users table and its outbox (UserCreated), group-committed.
caf::behavior store_behavior(caf::stateful_actor<store_state>* self, std::string path,
                             commit_metrics commits) {
  self->set_exception_handler(exit_reason_of);
  auto& st = self->state;
  st.core = std::make_unique<events::store_core>(self, path, sqlite::batch_limits{}, commits);
  migrate_users(st.core->db);
  auto& core = *st.core;
  return caf::message_handler{
      [self, &core](create_user& cmd) -> caf::result<user> {
        // Time queued behind other writes counts: late work is dropped, not done for nobody.
        if (past_deadline(cmd.ctx, self->clock().now())) return deadline_passed("users");
        // Tests crash the store here, with writes of earlier requests still uncommitted.
        failpoint("users.store.create");
        auto rp = self->make_response_promise<user>();
        core.answer(rp, parent_of(cmd.ctx), "", [&]() -> caf::expected<user> {
          user u{cmd.id, cmd.name, cmd.email, unix_now_ms()};
          if (!insert_user(core.db, u))
            return make_error(errc::already_exists, "a user with id '" + u.id + "' already exists",
                              "id");
          auto created =
              events::envelope_of(user_created{u.name, u.email}, "users", u.id, cmd.ctx.trace_id);
          events::append(core.db, created);
          return u;
        });
        return rp;
      },
      [self, &core](get_user& query) -> caf::result<user> {
        if (past_deadline(query.ctx, self->clock().now())) return deadline_passed("users");
        auto rp = self->make_response_promise<user>();
        core.answer(rp, parent_of(query.ctx), "", [&]() -> caf::expected<user> {
          if (auto found = find_user(core.db, query.id)) return *found;
          return make_error(errc::not_found, "no user with id '" + query.id + "'");
        });
        return rp;
      },
  }
      .or_else(core.handlers());
}

struct front_state {
  static inline const char* name = "users.front";
  store_link store;
  lru_cache<std::string, user> cache{0};
};

// Keeps what the store answered in the cache; coherent because the front is its store's only
// way in.
auto remember(users_actor::stateful_pointer<front_state> self) {
  return [self](user& u) { self->state.cache.put(u.id, u); };
}

users_actor::behavior_type front_behavior(users_actor::stateful_pointer<front_state> self,
                                          std::shared_ptr<child_ref> store,
                                          std::size_t cache_entries, bool linked,
                                          queue_bound shedding) {
  self->set_exception_handler(exit_reason_of);
  // Unsupervised: one fate with the store. Supervised, the store may restart alone; the
  // cache stays coherent, as the store keeps only what it committed and answered.
  if (linked) self->link_to(store->get());
  self->state.store = store_link{std::move(store), "users"};
  self->set_down_handler([self](caf::down_msg& down) { self->state.store.store_down(down); });
  self->state.cache = lru_cache<std::string, user>{cache_entries};
  return {
      [self, shedding](create_user& cmd) -> caf::result<user> {
        if (auto refused = shedding.refuse(self, cmd.ctx, "create_user")) return refused;
        failpoint("users.create");
        // A customer creates their own record: its id is their token's subject. Only the
        // admin scope creates records for others (or with a generated id).
        auto& ctx = cmd.ctx;
        if (!ctx.principal.empty() && !has_scope(ctx, admin_scope)) {
          if (cmd.id.empty()) cmd.id = ctx.principal;
          if (cmd.id != ctx.principal)
            return make_error(errc::forbidden,
                              "id must be your own (the token's subject) to create a user", "id");
        }
        if (auto v = rules::check_new_user({cmd.id, cmd.name, cmd.email}))
          return make_error(errc::invalid_argument, v->field + " " + v->message, v->field);
        if (cmd.id.empty()) {
          thread_local std::mt19937_64 rng{std::random_device{}()};
          cmd.id = rules::make_user_id(rng());
        }
        return self->state.store.ask<user>(self, std::move(cmd), remember(self));
      },
      [self, shedding](get_user& query) -> caf::result<user> {
        if (auto refused = shedding.refuse(self, query.ctx, "get_user")) return refused;
        failpoint("users.get");
        // An id that breaks the id rules cannot name a stored user; another customer's is
        // not found either, so ids of others stay unknown.
        if (!rules::valid_user_id(query.id) || !acts_for(query.ctx, query.id))
          return make_error(errc::not_found, "no user with id '" + query.id + "'");
        if (auto cached = self->state.cache.find(query.id)) return *cached;
        return self->state.store.ask<user>(self, std::move(query), remember(self));
      },
      // Subscribers (orders) read UserCreated events from the outbox.
      [self](events::pull_events& pull) -> caf::result<events::events_page> {
        return self->state.store.ask<events::events_page>(self, std::move(pull));
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

void to_json(nlohmann::json& j, const user_created& e) {
  j = {{"name", e.name}, {"email", e.email}};
}

void from_json(const nlohmann::json& j, user_created& e) {
  j.at("name").get_to(e.name);
  j.at("email").get_to(e.email);
}

users_actor spawn_users(caf::actor_system& system, const users_config& config) {
  bool supervised = static_cast<bool>(config.supervise);
  auto store = spawn_store(system, config.supervise, store_behavior, config.database_path,
                           config.detached_store, config.commits);
  return system.spawn(front_behavior, store, config.cache_entries, !supervised, config.shedding);
}

void register_users_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<user>("users.user");
  cfg.add_message_type<create_user>("users.create_user");
  cfg.add_message_type<get_user>("users.get_user");
}

capability users_capability() {
  capability cap;
  cap.name = "users";
  cap.operations = {"create_user", "get_user"};
  cap.has_database = true;
  cap.read_settings = [](settings_reader& s) -> std::any {
    users_settings out;
    out.cache_entries = static_cast<std::size_t>(
        s.integer("cache_entries", 0, 10'000'000, static_cast<std::int64_t>(out.cache_entries)));
    return out;
  };
  cap.register_types = register_users_types;
  cap.spawn = [](const capability_context& ctx) {
    users_config cfg{ctx.database_path, true, ctx.settings_as<users_settings>().cache_entries,
                     ctx.supervise, ctx.shedding};
    if (ctx.node_metrics) cfg.commits = ctx.node_metrics->for_database("users.db");
    return caf::actor_cast<caf::actor>(spawn_users(*ctx.system, cfg));
  };
  cap.routes = users_routes();
  return cap;
}

}  // namespace troupe::users
