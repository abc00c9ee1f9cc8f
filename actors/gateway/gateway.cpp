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
  auto& r = st.cfg.routes->at(index);
  // Overload: a request that waited too long for a worker is shed before anything is sent.
  auto now = self->clock().now();
  auto waited = now - ex.request.received_at;
  if (st.cfg.shedding.shed(ex.request.received_at, now))
    return ex.reply(error_response(
        make_error(errc::unavailable,
                   "the gateway is overloaded: the request waited " +
                       std::to_string(
                           std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()) +
                       " ms for a worker; retry later",
                   {}, std::chrono::seconds{1}),
        ex.request.id));
  auto budget =
      request_budget(ex.request, r.timeout, st.cfg.request_timeout, st.cfg.max_request_timeout);
  if (!budget) return ex.reply(error_response(budget.error(), ex.request.id));
  calls::call_options options;
  // The budget started when the request arrived: time queued on the way here counts.
  options.deadline = ex.request.received_at + *budget;
  options.trace_id = ex.request.id;
  if (r.idempotent) options.retry = st.cfg.retry;
  route_call call{std::move(ex.request), std::move(ex.reply), *st.calls, st.callee_of[index],
                  std::move(options)};
  r.run(call);
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

caf::expected<std::chrono::milliseconds> request_budget(const http_request& request,
                                                        std::chrono::milliseconds route_timeout,
                                                        std::chrono::milliseconds fallback,
                                                        std::chrono::milliseconds max) {
  auto budget = route_timeout.count() > 0 ? route_timeout : fallback;
  auto asked = request.header(request_timeout_header);
  if (!asked) return budget;
  // Digits only, at most 9 of them (no sign, no overflow), and at least 1 ms.
  auto& text = *asked;
  bool digits = !text.empty() && text.size() <= 9 &&
                text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoll(text) < 1)
    return make_error(errc::invalid_argument,
                      std::string(request_timeout_header) +
                          " must be a whole number of milliseconds from 1 to " +
                          std::to_string(max.count()),
                      request_timeout_header);
  return std::min(std::chrono::milliseconds{std::stoll(text)}, max);
}

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
    out.max_request_timeout =
        s.milliseconds("max_request_timeout_ms", 1, 3'600'000,
                       std::max<std::int64_t>(60000, out.request_timeout.count()));
    if (out.max_request_timeout < out.request_timeout)
      throw settings_error(s.path_of("max_request_timeout_ms"),
                           "must be at least request_timeout_ms (" +
                               std::to_string(out.request_timeout.count()) + ")");
    out.workers = static_cast<int>(s.integer("workers", 0, 256, 0));
    auto retry = s.section("retry");
    out.retry.attempts = static_cast<int>(retry.integer("attempts", 1, 10, out.retry.attempts));
    out.retry.backoff.min =
        retry.milliseconds("backoff_min_ms", 1, 60'000, out.retry.backoff.min.count());
    out.retry.backoff.max =
        retry.milliseconds("backoff_max_ms", 1, 60'000, out.retry.backoff.max.count());
    if (out.retry.backoff.max < out.retry.backoff.min)
      throw settings_error(retry.path_of("backoff_max_ms"), "must be at least backoff_min_ms");
    retry.finish();
    return out;
  };
  cap.spawn = [](const capability_context& ctx) {
    auto& settings = ctx.settings_as<gateway_settings>();
    gateway_config cfg{ctx.view,
                       ctx.routes,
                       settings.request_timeout,
                       settings.workers > 0 ? settings.workers : ctx.scheduler_threads,
                       settings.max_request_timeout,
                       settings.retry,
                       ctx.shedding};
    return spawn_gateway(*ctx.system, std::move(cfg));
  };
  return cap;
}

}  // namespace troupe::gateway
