#include "actors/gateway/gateway.hpp"

#include <caf/actor_pool.hpp>
#include <caf/all.hpp>

#include "runtime/calls/caller.hpp"
#include "runtime/core/error.hpp"
#include "runtime/http/exchange.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/http/route.hpp"
#include "runtime/http/server.hpp"

namespace troupe::gateway {

namespace {

struct worker_state {
  static inline const char* name = "gateway.worker";
  gateway_config cfg;
  std::unique_ptr<calls::caller> calls;
  std::vector<calls::callee> callee_of;                     // by route index
  std::vector<const security::rate_limit*> route_limit_of;  // by route index; null: none
};

using worker_actor = caf::stateful_actor<worker_state>;

http_response with_headers(http_response res,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  res.headers.insert(res.headers.end(), headers.begin(), headers.end());
  return res;
}

struct limit_use {
  security::rate_decision decision;
  std::chrono::seconds window;
};

// The tightest of the buckets taken: refused if any refused (Retry-After: the longest wait).
rate_check verdict_of(const std::vector<limit_use>& used, const http_request& request) {
  rate_check out;
  if (used.empty()) return out;
  const limit_use* tightest = &used.front();
  std::int64_t retry_after = 0;
  for (auto& u : used) {
    if (!u.decision.allowed) retry_after = std::max(retry_after, u.decision.retry_after_s);
    if (u.decision.remaining < tightest->decision.remaining) tightest = &u;
  }
  auto& d = tightest->decision;
  out.remaining = d.remaining;
  out.headers = {{"RateLimit-Limit", std::to_string(d.limit)},
                 {"RateLimit-Remaining", std::to_string(d.remaining)},
                 {"RateLimit-Reset", std::to_string(d.reset_s)},
                 {"RateLimit-Policy",
                  std::to_string(d.limit) + ";w=" + std::to_string(tightest->window.count())}};
  if (retry_after > 0)
    out.refusal = with_headers(error_response(make_error(errc::rate_limited,
                                                         "too many requests; retry in " +
                                                             std::to_string(retry_after) + " s",
                                                         {}, std::chrono::seconds{retry_after}),
                                              request.id),
                               out.headers);
  return out;
}

// Each route's own limit (rate_limits::routes), by route index; null where none is set.
// Throws std::invalid_argument for a limit naming no route.
std::vector<const security::rate_limit*> limits_by_route(const rate_limits& limits,
                                                         const router& routes) {
  std::vector<const security::rate_limit*> out(routes.routes().size(), nullptr);
  for (auto& [name, limit] : limits.routes) {
    bool known = false;
    for (std::size_t i = 0; i < out.size(); ++i)
      if (route_name(routes.routes()[i]) == name) {
        out[i] = &limit;
        known = true;
      }
    if (!known)
      throw std::invalid_argument("rate_limit.routes: no route '" + name +
                                  "' (keys are \"METHOD /path/{template}\")");
  }
  return out;
}

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
  // Per client first, so that requests without a valid token are limited too.
  auto limited = check_client_limits(st.cfg.limits, ex.request, st.route_limit_of[index]);
  if (limited.refusal) return ex.reply(std::move(*limited.refusal));
  auto auth = authenticate(r, ex.request, st.cfg.verifier.get(), unix_seconds());
  if (auth.refusal) return ex.reply(with_headers(std::move(*auth.refusal), limited.headers));
  if (auth.who) {
    limited = check_subject_limit(st.cfg.limits, ex.request, auth.who->subject, std::move(limited));
    if (limited.refusal) return ex.reply(std::move(*limited.refusal));
  }
  if (!limited.headers.empty())
    ex.reply = [inner = std::move(ex.reply), headers = std::move(limited.headers)](
                   http_response&& res) { inner(with_headers(std::move(res), headers)); };
  auto budget =
      request_budget(ex.request, r.timeout, st.cfg.request_timeout, st.cfg.max_request_timeout);
  if (!budget) return ex.reply(error_response(budget.error(), ex.request.id));
  calls::call_options options;
  options.from_client = true;
  if (auth.who) {
    options.principal = std::move(auth.who->subject);
    options.scopes = std::move(auth.who->scopes);
  }
  // The budget started when the request arrived: time queued on the way here counts.
  options.deadline = ex.request.received_at + *budget;
  options.trace = {ex.request.id, ex.request.span_id, ex.request.trace_state, ex.request.sampled};
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
  st.route_limit_of = limits_by_route(st.cfg.limits, *st.cfg.routes);
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

void read_tls(settings_reader r, tls_settings& t) {
  t.certificate_file = r.optional_text("certificate_file", 4096, "");
  t.key_file = r.optional_text("key_file", 4096, "");
  t.key_passphrase_env = r.optional_text("key_passphrase_env", 128, "");
  t.min_version = r.text("min_version", 3, t.min_version);
  if (t.min_version != "1.2" && t.min_version != "1.3")
    throw settings_error(r.path_of("min_version"), "must be \"1.2\" or \"1.3\"");
  t.hsts_max_age =
      std::chrono::seconds{r.integer("hsts_max_age_s", 0, 2 * 31'536'000, t.hsts_max_age.count())};
  t.hsts_include_subdomains = r.boolean("hsts_include_subdomains", t.hsts_include_subdomains);
  if (t.enabled() && t.key_file.empty())
    throw settings_error(r.path_of("key_file"), "a certificate_file needs its key_file");
  if (!t.enabled() && !t.key_file.empty())
    throw settings_error(r.path_of("certificate_file"), "a key_file needs its certificate_file");
  r.finish();
}

void read_cors(settings_reader r, cors_policy& c) {
  c.allowed_origins = r.strings("allowed_origins", 64, 256, {});
  for (auto& origin : c.allowed_origins)
    if (auto problem = origin_problem(origin); !problem.empty())
      throw settings_error(r.path_of("allowed_origins"), "'" + origin + "': " + problem);
  c.allowed_headers = r.strings("allowed_headers", 64, 128, c.allowed_headers);
  c.exposed_headers = r.strings("exposed_headers", 64, 128, c.exposed_headers);
  for (auto* list : {&c.allowed_headers, &c.exposed_headers})
    for (auto& name : *list)
      if (!valid_header(name, ""))
        throw settings_error(
            r.path_of(list == &c.allowed_headers ? "allowed_headers" : "exposed_headers"),
            "'" + name + "' is not a header name");
  c.allow_credentials = r.boolean("allow_credentials", false);
  if (c.allow_credentials &&
      std::find(c.allowed_origins.begin(), c.allowed_origins.end(), "*") != c.allowed_origins.end())
    throw settings_error(r.path_of("allow_credentials"),
                         "cannot be true with the origin \"*\": list the origins");
  c.max_age = std::chrono::seconds{r.integer("max_age_s", 0, 86400, c.max_age.count())};
  r.finish();
}

}  // namespace

rate_check check_client_limits(const rate_limits& limits, const http_request& request,
                               const security::rate_limit* route_limit) {
  std::vector<limit_use> used;
  if (!limits.buckets || (limits.per_client.off() && !route_limit)) return {};
  // Every X-Forwarded-For field, in order, as one list (RFC 9110 5.3): a proxy may add a
  // field of its own instead of appending to the client's.
  std::string forwarded;
  if (!limits.trusted_proxies.empty())
    for (auto& [name, value] : request.headers)
      if (ascii_iequals(name, "X-Forwarded-For"))
        forwarded += (forwarded.empty() ? "" : ", ") + value;
  auto client = security::client_of(request.peer, forwarded, limits.trusted_proxies);
  if (!limits.per_client.off()) {
    used.push_back({limits.buckets->take("c " + client, limits.per_client, request.received_at),
                    limits.per_client.window});
    if (!used.back().decision.allowed) return verdict_of(used, request);
  }
  if (route_limit && !route_limit->off())
    used.push_back({limits.buckets->take("r" + std::to_string(request.route) + " " + client,
                                         *route_limit, request.received_at),
                    route_limit->window});
  return verdict_of(used, request);
}

rate_check check_subject_limit(const rate_limits& limits, const http_request& request,
                               const std::string& subject, rate_check so_far) {
  if (!limits.subject_buckets || limits.per_subject.off()) return so_far;
  auto d = limits.subject_buckets->take(subject, limits.per_subject, request.received_at);
  // The client's headers stand unless the subject's bucket is tighter.
  if (!d.allowed || !so_far.remaining || d.remaining < *so_far.remaining)
    return verdict_of({{d, limits.per_subject.window}}, request);
  return so_far;
}

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
  limits_by_route(config.limits, *config.routes);  // refuses a limit naming no route
  auto pool = caf::actor_pool::make(system.dummy_execution_unit(), caf::actor_pool::round_robin());
  for (int i = 0; i < std::max(1, config.workers); ++i)
    caf::anon_send(pool, caf::sys_atom::value, caf::put_atom::value,
                   system.spawn(worker, config, pool));
  return pool;
}

capability gateway_capability() {
  capability cap;
  cap.name = "gateway";
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
    out.listener.auth = security::read_auth_config(s.section("auth"), out.listener.auth);
    auto limits = s.section("rate_limit");
    auto read_limit = [](settings_reader r, security::rate_limit fallback) {
      security::rate_limit l;
      l.requests = r.integer("requests", 0, 1'000'000'000, fallback.requests);
      l.window =
          std::chrono::seconds{r.integer("window_s", 1, 86400 * 31, fallback.window.count())};
      r.finish();
      return l;
    };
    auto& rl = out.limits;
    rl.per_client = read_limit(limits.section("per_client"), rl.per_client);
    rl.per_subject = read_limit(limits.section("per_subject"), rl.per_subject);
    rl.trusted_proxies = limits.strings("trusted_proxies", 64, 45, {});
    auto routes = limits.section("routes");
    for (auto& key : routes.keys()) {
      if (rl.routes.size() >= 256) throw settings_error(routes.path(), "at most 256 routes");
      rl.routes.emplace_back(key, read_limit(routes.section(key), {0, std::chrono::seconds{60}}));
    }
    routes.finish();
    auto max_buckets = limits.integer("max_buckets", 1000, 10'000'000, 100'000);
    limits.finish();
    rl.buckets = std::make_shared<security::rate_limiter>(static_cast<std::size_t>(max_buckets));
    rl.subject_buckets =
        std::make_shared<security::rate_limiter>(static_cast<std::size_t>(max_buckets));
    read_tls(s.section("tls"), out.listener.tls);
    read_cors(s.section("cors"), out.listener.cors);
    return out;
  };
  auto entry = std::make_shared<http_entry>();
  entry->listener_of = [](const std::any& settings) -> const entry_listener* {
    return &std::any_cast<const gateway_settings&>(settings).listener;
  };
  cap.http_entry = std::move(entry);
  cap.spawn = [](const capability_context& ctx) {
    auto& settings = ctx.settings_as<gateway_settings>();
    if (!ctx.http_entry) throw std::logic_error("the gateway runs only as its node's HTTP entry");
    gateway_config cfg{ctx.view,
                       ctx.http_entry->routes,
                       settings.request_timeout,
                       settings.workers > 0 ? settings.workers : ctx.scheduler_threads,
                       settings.max_request_timeout,
                       settings.retry,
                       ctx.shedding,
                       ctx.http_entry->verifier,
                       settings.limits};
    return spawn_gateway(*ctx.system, std::move(cfg));
  };
  return cap;
}

}  // namespace troupe::gateway
