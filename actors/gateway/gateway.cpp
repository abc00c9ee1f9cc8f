#include "actors/gateway/gateway.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "actors/gateway/routes.hpp"
#include "runtime/deadline_tracker.hpp"
#include "runtime/error.hpp"
#include "runtime/http_exchange.hpp"
#include "runtime/settings.hpp"

namespace troupe::gateway {

namespace {

// A request to a capability. Its HTTP answer may go out early (503 when the capability is
// lost: CAF does not fail in-flight requests to a dead node), but the entry stays until
// CAF's handler runs, with the reply or with the timeout the deadline tracker injects, so
// that no handler stays registered.
struct pending_call {
  std::string capability;
  http_reply reply;  // empty once answered
  std::string route;
};

using tick_atom = caf::atom_constant<caf::atom("tick")>;

// How often expired calls are looked for: the precision of request deadlines.
constexpr std::chrono::milliseconds deadline_tick{10};

struct gateway_state {
  static inline const char* name = "gateway";
  gateway_config cfg;
  users::users_actor users;
  std::unordered_map<std::uint64_t, pending_call> pending;  // by request id
  deadline_tracker deadlines;
  bool ticking = false;
};

using gateway_actor = caf::stateful_actor<gateway_state>;

// Ends a call when CAF runs its handler; returns the reply if the client still waits.
http_reply finish(gateway_actor* self, caf::message_id id, std::string& route) {
  auto it = self->state.pending.find(id.integer_value());
  if (it == self->state.pending.end()) return {};
  auto reply = std::move(it->second.reply);
  route = std::move(it->second.route);
  self->state.pending.erase(it);
  return reply;
}

void fail_pending(gateway_actor* self, const std::string& capability) {
  for (auto& [id, call] : self->state.pending) {
    if (call.capability != capability || !call.reply) continue;
    call.reply(json_error(503, "unavailable", "capability '" + capability + "' became unavailable",
                          {}, call.route));
    call.reply = nullptr;
  }
}

std::size_t unanswered(gateway_actor* self) {
  std::size_t n = 0;
  for (auto& [id, call] : self->state.pending) n += call.reply ? 1 : 0;
  return n;
}

void start_ticking(gateway_actor* self) {
  if (self->state.ticking) return;
  self->state.ticking = true;
  self->delayed_send(self, deadline_tick, tick_atom::value);
}

template <class Message>
void call_users(gateway_actor* self, Message msg, http_reply reply, std::string route,
                int success_status) {
  if (!self->state.users)
    return reply(json_error(503, "unavailable", "capability 'users' is unavailable", {}, route));
  auto timeout = self->state.cfg.request_timeout;
  msg.ctx = make_call_context("gateway", timeout);
  // No CAF timeout: the deadline tracker enforces it (see deadline_tracker.hpp).
  auto handle = self->request(self->state.users, caf::infinite, std::move(msg));
  auto id = handle.id();
  self->state.pending.emplace(id.integer_value(),
                              pending_call{"users", std::move(reply), std::move(route)});
  self->state.deadlines.track(id, deadline_tracker::clock::now() + timeout);
  start_ticking(self);
  handle.then(
      [self, id, success_status](users::user& u) {
        std::string route;
        if (auto reply = finish(self, id, route))
          reply(user_response(success_status, u, std::move(route)));
      },
      [self, id](caf::error& err) {
        std::string route;
        if (auto reply = finish(self, id, route)) reply(error_response(err, std::move(route)));
      });
}

caf::behavior gateway_behavior(gateway_actor* self, gateway_config cfg) {
  self->state.cfg = std::move(cfg);
  self->send(self->state.cfg.directory, subscribe_atom::value, std::string("users"));
  return {
      [self](http_exchange& ex) {
        auto match = match_route(ex.request.method, ex.request.path());
        switch (match.kind) {
          case route_kind::not_found:
            return ex.reply(
                json_error(404, "not_found", "no route for " + std::string(ex.request.path())));
          case route_kind::method_not_allowed: {
            auto res = json_error(405, "method_not_allowed",
                                  ex.request.method + " is not allowed here; use " + match.allow,
                                  {}, match.route);
            res.headers.emplace_back("Allow", match.allow);
            return ex.reply(std::move(res));
          }
          case route_kind::create_user: {
            auto parsed = parse_create_user(ex.request, match.route);
            if (auto res = std::get_if<http_response>(&parsed)) return ex.reply(std::move(*res));
            return call_users(self, std::get<users::create_user>(std::move(parsed)),
                              std::move(ex.reply), match.route, 201);
          }
          case route_kind::get_user:
            return call_users(self, users::get_user{{}, match.id}, std::move(ex.reply), match.route,
                              200);
        }
      },
      [self](update_atom, const std::string& capability, const caf::strong_actor_ptr& handle) {
        if (capability != "users") return;
        self->state.users = caf::actor_cast<users::users_actor>(handle);
        if (!handle) fail_pending(self, capability);
      },
      [self](tick_atom) {
        auto& st = self->state;
        st.deadlines.expire(
            self, [&](caf::message_id id) { return st.pending.count(id.integer_value()) > 0; });
        if (st.deadlines.empty())
          st.ticking = false;
        else
          self->delayed_send(self, deadline_tick, tick_atom::value);
      },
      [self](health_atom) {
        return health_report{
            {"gateway", true, std::to_string(unanswered(self)) + " calls in flight"}};
      },
  };
}

}  // namespace

caf::actor spawn_gateway(caf::actor_system& system, gateway_config config) {
  return system.spawn(gateway_behavior, std::move(config));
}

capability gateway_capability() {
  capability cap;
  cap.traits = {"gateway", {"users"}, true, [](const std::string& settings) {
                  return check_integer_settings(settings, {{"request_timeout_ms", 1, 3600000}});
                }};
  cap.register_types = [](caf::actor_system_config&) {};
  cap.spawn = [](const capability_context& ctx) {
    gateway_config cfg{ctx.directory, std::chrono::milliseconds{integer_setting_or(
                                          ctx.settings_json, "request_timeout_ms", 5000)}};
    return spawn_gateway(*ctx.system, std::move(cfg));
  };
  return cap;
}

}  // namespace troupe::gateway
