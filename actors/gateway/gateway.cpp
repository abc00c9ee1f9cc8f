#include "actors/gateway/gateway.hpp"

#include <caf/actor_pool.hpp>
#include <caf/all.hpp>

#include "runtime/calls/caller.hpp"
#include "runtime/core/error.hpp"
#include "runtime/http/exchange.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/http/route.hpp"

namespace troupe::gateway {

namespace {

struct worker_state {
  static inline const char* name = "gateway.worker";
  gateway_config cfg;
  std::unique_ptr<calls::caller> calls;
  std::vector<calls::callee> callee_of;  // by route index
};

using worker_actor = caf::stateful_actor<worker_state>;

void serve(worker_actor* self, http_exchange& ex) {
  auto& st = self->state;
  auto index = ex.request.route;
  if (index < 0 || static_cast<std::size_t>(index) >= st.callee_of.size())
    return ex.reply(error_response(errc::not_found, "no route for this path", ex.request.id));
  calls::call_options options;
  // The budget started when the request arrived: time queued on the way here counts.
  options.deadline = ex.request.received_at + st.cfg.request_timeout;
  options.trace_id = ex.request.id;
  route_call call{std::move(ex.request), std::move(ex.reply), *st.calls, st.callee_of[index],
                  std::move(options)};
  st.cfg.routes->at(index).run(call);
}

caf::behavior worker(worker_actor* self, gateway_config cfg, caf::actor pool) {
  // One fate with the pool: a crashing worker takes the gateway down, and the supervisor
  // restarts all of it.
  self->link_to(pool);
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.calls = std::make_unique<calls::caller>(self, st.cfg.view, "gateway");
  for (auto& r : st.cfg.routes->routes()) st.callee_of.push_back(st.calls->resolve(r.capability));
  return {
      [self](http_exchange& ex) { serve(self, ex); },
      [self](calls::tick_atom) { self->state.calls->tick(); },
      [self](health_atom) {
        // The view counts calls in flight node-wide, per callee: all workers together.
        auto& view = *self->state.cfg.view;
        int in_flight = 0;
        std::vector<bool> counted(view.size(), false);
        for (auto& callee : self->state.callee_of)
          if (!counted[callee.slot]) {
            counted[callee.slot] = true;
            in_flight += view.in_flight(callee.slot);
          }
        return health_report{{"gateway", true, std::to_string(in_flight) + " calls in flight"}};
      },
  };
}

}  // namespace

caf::actor spawn_gateway(caf::actor_system& system, gateway_config config) {
  auto pool = caf::actor_pool::make(system.dummy_execution_unit(), caf::actor_pool::round_robin());
  for (int i = 0; i < std::max(1, config.workers); ++i)
    caf::anon_send(pool, caf::sys_atom::value, caf::put_atom::value,
                   system.spawn(worker, config, pool));
  return pool;
}

capability gateway_capability() {
  capability cap;
  cap.name = "gateway";
  cap.calls_routed = true;
  cap.serves_http = true;
  cap.read_settings = [](settings_reader& s) -> std::any {
    gateway_settings out;
    out.request_timeout = s.milliseconds("request_timeout_ms", 1, 3'600'000, 5000);
    out.workers = static_cast<int>(s.integer("workers", 0, 256, 0));
    return out;
  };
  cap.spawn = [](const capability_context& ctx) {
    auto& settings = ctx.settings_as<gateway_settings>();
    gateway_config cfg{ctx.view, ctx.routes, settings.request_timeout,
                       settings.workers > 0 ? settings.workers : ctx.scheduler_threads};
    return spawn_gateway(*ctx.system, std::move(cfg));
  };
  return cap;
}

}  // namespace troupe::gateway
