#include "actors/gateway/gateway.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "actors/gateway/routes.hpp"
#include "runtime/error.hpp"
#include "runtime/http_exchange.hpp"
#include "runtime/settings.hpp"

namespace troupe::gateway {

namespace {

// A request waiting for a capability. Answered by the reply, or failed at once when the
// capability is lost: CAF does not fail in-flight requests to a dead node.
struct pending_call {
  std::string capability;
  http_reply reply;
  std::string route;
};

struct gateway_state {
  static inline const char* name = "gateway";
  gateway_config cfg;
  users::users_actor users;
  std::uint64_t next_call = 0;
  std::unordered_map<std::uint64_t, pending_call> pending;
};

using gateway_actor = caf::stateful_actor<gateway_state>;

// Takes the pending call out; nullopt when it was already answered.
std::optional<pending_call> take(gateway_actor* self, std::uint64_t id) {
  auto it = self->state.pending.find(id);
  if (it == self->state.pending.end()) return std::nullopt;
  auto call = std::move(it->second);
  self->state.pending.erase(it);
  return call;
}

void fail_pending(gateway_actor* self, const std::string& capability) {
  for (auto it = self->state.pending.begin(); it != self->state.pending.end();) {
    if (it->second.capability != capability) {
      ++it;
      continue;
    }
    it->second.reply(json_error(503, "unavailable",
                                "capability '" + capability + "' became unavailable", {},
                                it->second.route));
    it = self->state.pending.erase(it);
  }
}

template <class Message>
void call_users(gateway_actor* self, Message msg, http_reply reply, std::string route,
                int success_status) {
  if (!self->state.users)
    return reply(json_error(503, "unavailable", "capability 'users' is unavailable", {}, route));
  msg.ctx = make_call_context("gateway", self->state.cfg.request_timeout);
  auto id = ++self->state.next_call;
  self->state.pending.emplace(id, pending_call{"users", std::move(reply), std::move(route)});
  self->request(self->state.users, self->state.cfg.request_timeout, std::move(msg))
      .then(
          [self, id, success_status](users::user& u) {
            if (auto call = take(self, id))
              call->reply(user_response(success_status, u, std::move(call->route)));
          },
          [self, id](caf::error& err) {
            if (auto call = take(self, id))
              call->reply(error_response(err, std::move(call->route)));
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
      [self](health_atom) {
        return health_report{
            {"gateway", true, std::to_string(self->state.pending.size()) + " calls in flight"}};
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
