#include "runtime/http/admin.hpp"

#include "runtime/http/bearer.hpp"
#include "runtime/http/cors.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "runtime/core/call_context.hpp"
#include "runtime/core/time.hpp"
#include "runtime/http/exchange.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/http/router.hpp"
#include "runtime/observability/metrics.hpp"
#include "runtime/saga/log.hpp"

namespace troupe::detail {

// A probe for the admin actor: the exchange and whether to show per-check details.
struct admin_query {
  http_exchange exchange;
  bool details = false;
};

}  // namespace troupe::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::detail::admin_query)

namespace troupe {

namespace {

using json = nlohmann::json;
using detail::admin_query;

json checks_json(const std::vector<health_check>& checks) {
  json out = json::array();
  for (auto& c : checks)
    out.push_back({{"name", c.name}, {"status", c.ok ? "up" : "down"}, {"detail", c.detail}});
  return out;
}

struct admin_state {
  static inline const char* name = "troupe.admin";
  std::string node;
  caf::actor directory;
  std::vector<std::pair<std::string, caf::actor>> supervisors;
  std::map<std::string, health_check> databases;  // latest check of each
  std::shared_ptr<directory_view> view;
  std::vector<std::string> saga_owners;
};

json saga_json(const saga::saga_record& r, bool full) {
  json out = {{"id", r.id},
              {"definition", r.definition},
              {"version", r.version},
              {"step", r.step_name},
              {"step_index", r.step},
              {"reach_index", r.reach},
              {"state", r.state},
              {"attempts", r.attempts},
              {"last_error", r.last_error.empty() ? json(nullptr) : json(r.last_error)},
              {"created_at", format_utc_ms(r.created_at_ms)},
              {"updated_at", format_utc_ms(r.updated_at_ms)}};
  if (!r.outcome.empty()) out["outcome"] = r.outcome;
  if (full) {
    out["data"] = json::parse(r.data, nullptr, false);
    if (!r.reply.empty()) out["reply"] = json::parse(r.reply, nullptr, false);
  }
  return out;
}

// GET /sagas: every saga owner on the node asked, the answers merged newest first.
struct saga_round {
  http_reply reply;
  std::string request_id;
  std::size_t limit = 100;
  std::size_t pending = 0;
  std::vector<saga::saga_record> found;
  std::string failed;
  void add(std::vector<saga::saga_record>&& part) {
    for (auto& r : part) found.push_back(std::move(r));
    done();
  }
  void fail(const std::string& why) {
    failed = why;
    done();
  }
  void done() {
    if (--pending > 0) return;
    if (!failed.empty())
      return reply(
          error_response(errc::unavailable, failed, request_id, {}, std::chrono::seconds{1}));
    std::sort(found.begin(), found.end(), [](auto& a, auto& b) {
      return a.updated_at_ms != b.updated_at_ms ? a.updated_at_ms > b.updated_at_ms : a.id < b.id;
    });
    if (found.size() > limit) found.resize(limit);
    json list = json::array();
    for (auto& r : found) list.push_back(saga_json(r, false));
    reply(json_response(200, {{"sagas", list}}));
  }
};

void serve_sagas(caf::stateful_actor<admin_state>* self, http_request& req, http_reply reply) {
  auto& st = self->state;
  auto path = req.path();
  std::vector<caf::actor> owners;
  for (auto& name : st.saga_owners) {
    auto slot = st.view ? st.view->index_of(name) : std::nullopt;
    auto handle = slot ? st.view->handle(*slot) : caf::actor{};
    if (!handle)
      return reply(error_response(errc::unavailable, "'" + name + "' is restarting", req.id, {},
                                  std::chrono::seconds{1}));
    owners.push_back(handle);
  }
  if (path.size() > 7) {  // /sagas/{id}
    std::string id;
    if (!percent_decode(path.substr(7), id) || id.size() > 128)
      return reply(error_response(errc::not_found, "no such saga", req.id));
    if (owners.empty()) return reply(error_response(errc::not_found, "no such saga", req.id));
    // Ask the owners in turn; the first that has it answers.
    auto ask = std::make_shared<std::function<void(std::size_t)>>();
    *ask = [self, owners, id, reply, ask, rid = req.id](std::size_t i) {
      if (i == owners.size()) {
        reply(error_response(errc::not_found, "no saga '" + id + "'", rid));
        *ask = nullptr;  // break the cycle
        return;
      }
      self->request(owners[i], std::chrono::seconds{5}, saga::find_saga{id})
          .then(
              [reply, ask](saga::saga_record& r) {
                reply(json_response(200, saga_json(r, true)));
                *ask = nullptr;
              },
              [ask, i](caf::error&) { (*ask)(i + 1); });
    };
    return (*ask)(0);
  }
  auto query = parse_query(req.target, 4);
  std::string state;
  long limit = 100;
  if (!query) return reply(error_response(errc::invalid_argument, "malformed query", req.id));
  for (auto& [name, value] : *query) {
    if (name == "state") {
      if (value != saga::state_running && value != saga::state_compensating &&
          value != saga::state_stuck && value != saga::state_done)
        return reply(error_response(errc::invalid_argument,
                                    "state must be running, compensating, stuck or done", req.id,
                                    "state"));
      state = value;
    } else if (name == "limit") {
      char* end = nullptr;
      limit = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || limit < 1 || limit > saga::max_list_limit)
        return reply(error_response(
            errc::invalid_argument,
            "limit must be an integer from 1 to " + std::to_string(saga::max_list_limit), req.id,
            "limit"));
    } else {
      return reply(error_response(errc::invalid_argument,
                                  "unknown query parameter (allowed: state, limit)", req.id,
                                  "query"));
    }
  }
  auto round = std::make_shared<saga_round>();
  round->reply = std::move(reply);
  round->request_id = req.id;
  round->limit = static_cast<std::size_t>(limit);
  round->pending = owners.size();
  if (owners.empty()) return round->reply(json_response(200, {{"sagas", json::array()}}));
  for (auto& owner : owners)
    self->request(owner, std::chrono::seconds{5},
                  saga::list_sagas{state, static_cast<std::int32_t>(limit)})
        .then([round](std::vector<saga::saga_record>& part) { round->add(std::move(part)); },
              [round, self](caf::error& err) {
                round->fail("a saga owner did not answer: " + self->system().render(err));
              });
}

// Collects one health report per supervisor, then answers once.
struct health_round {
  std::string node;
  bool details = false;
  http_reply reply;
  std::size_t pending = 0;
  std::vector<health_check> checks;
  void add(health_report&& report) {
    for (auto& c : report) checks.push_back(std::move(c));
    if (--pending == 0) finish();
  }
  void finish() {
    bool ok = std::all_of(checks.begin(), checks.end(), [](auto& c) { return c.ok; });
    json body = {{"status", ok ? "up" : "down"}};
    if (details) {
      body["node"] = node;
      body["checks"] = checks_json(checks);
    }
    reply(json_response(ok ? 200 : 503, body));
  }
};

caf::behavior admin_behavior(caf::stateful_actor<admin_state>* self, std::string node,
                             caf::actor directory,
                             std::vector<std::pair<std::string, caf::actor>> supervisors,
                             std::vector<std::string> databases,
                             std::shared_ptr<directory_view> view,
                             std::vector<std::string> saga_owners) {
  auto& st = self->state;
  st.view = std::move(view);
  st.saga_owners = std::move(saga_owners);
  st.node = std::move(node);
  st.directory = std::move(directory);
  st.supervisors = std::move(supervisors);
  for (auto& db : databases) st.databases[db] = health_check{db, true, "first check pending"};
  return {
      [self](health_atom, health_check& check) {
        self->state.databases[check.name] = std::move(check);
      },
      [self](admin_query& q) {
        auto details = q.details;
        auto reply = std::move(q.exchange.reply);
        if (q.exchange.request.path().rfind("/sagas", 0) == 0)
          return serve_sagas(self, q.exchange.request, std::move(reply));
        if (q.exchange.request.path() == "/ready") {
          auto id = q.exchange.request.id;
          self->request(self->state.directory, std::chrono::seconds{2}, ready_atom::value)
              .then(
                  [self, reply, details](readiness& r) {
                    json body = {{"ready", r.ready}};
                    if (details) {
                      body["node"] = self->state.node;
                      body["checks"] = checks_json(r.checks);
                    }
                    reply(json_response(r.ready ? 200 : 503, body));
                  },
                  [reply, id](caf::error&) {
                    reply(error_response(errc::unavailable, "the directory did not answer", id, {},
                                         std::chrono::seconds{1}));
                  });
          return;
        }
        auto round = std::make_shared<health_round>();
        round->node = self->state.node;
        round->details = details;
        round->reply = std::move(reply);
        for (auto& [name, check] : self->state.databases) round->checks.push_back(check);
        round->pending = self->state.supervisors.size();
        if (round->pending == 0) return round->finish();
        for (auto& [cap, sup] : self->state.supervisors) {
          auto name = cap;
          self->request(sup, std::chrono::seconds{3}, health_atom::value)
              .then([round](health_report& report) { round->add(std::move(report)); },
                    [round, name, self](caf::error& err) {
                      round->add({{name, false, "no answer: " + self->system().render(err)}});
                    });
        }
      },
  };
}

bool sagas_path(std::string_view path) {
  return path == "/sagas" || (path.size() > 7 && path.substr(0, 7) == "/sagas/");
}

// Details (/metrics, /sagas) only where the node's details are served.
bool admin_path(std::string_view path, bool details) {
  return path == "/health" || path == "/ready" ||
         (details && (path == "/metrics" || sagas_path(path)));
}

// Admission of an admin path: GET only, no body.
admission admit_admin_path(const request_head& head, std::string_view path) {
  admission out;
  out.route_label = path == "/health"  ? "/health"
                    : path == "/ready" ? "/ready"
                    : path == "/sagas" ? "/sagas"
                    : sagas_path(path) ? "/sagas/{id}"
                                       : "/metrics";
  if (head.method != http_method::get) {
    auto res = error_response(
        errc::method_not_allowed,
        std::string(method_name(head.method)) + " is not allowed here; use GET", head.request_id);
    res.headers.emplace_back("Allow", "GET");
    out.refusal = std::move(res);
  } else if (head.has_body) {
    out.refusal =
        error_response(errc::payload_too_large, "this path takes no request body", head.request_id);
  }
  return out;
}

// Refusals every listener makes the same way: methods troupe does not serve, and targets
// that are not a path.
std::optional<admission> refuse_malformed(const request_head& head) {
  admission out;
  if (head.method == http_method::other) {
    out.refusal =
        error_response(errc::not_implemented, "this HTTP method is not served", head.request_id);
    return out;
  }
  if (head.target.empty() || head.target[0] != '/') {
    out.refusal =
        error_response(errc::bad_request, "the request target must be a path", head.request_id);
    return out;
  }
  return std::nullopt;
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

// Serves an admitted admin path.
void serve_admin(const admin_endpoints& admin, bool details, http_request&& req, http_reply reply) {
  auto path = req.path();
  if (path == "/metrics") {
    http_response res;
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = admin.sink ? admin.sink->render() : std::string{};
    return reply(std::move(res));
  }
  if (path == "/ready" && admin.stopping && admin.stopping->load()) {
    json body = {{"ready", false}};
    if (details)
      body["checks"] = {{{"name", "node"}, {"status", "down"}, {"detail", "shutting down"}}};
    return reply(json_response(503, body));
  }
  caf::anon_send(admin.admin, admin_query{{std::move(req), std::move(reply)}, details});
}

bool media_type_is(std::string_view content_type, std::string_view media_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type.size() == media_type.size() &&
         std::equal(type.begin(), type.end(), media_type.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

}  // namespace

caf::actor spawn_admin(caf::actor_system& system, std::string node, caf::actor directory,
                       std::vector<std::pair<std::string, caf::actor>> supervisors,
                       std::vector<std::string> databases, std::shared_ptr<directory_view> view,
                       std::vector<std::string> saga_owners) {
  return system.spawn(admin_behavior, std::move(node), std::move(directory), std::move(supervisors),
                      std::move(databases), std::move(view), std::move(saga_owners));
}

http_service make_admin_service(admin_endpoints admin,
                                std::shared_ptr<const security::token_verifier> verifier) {
  http_service service;
  service.admit = [](const request_head& head) {
    if (auto refused = refuse_malformed(head)) return *refused;
    auto path = path_of(head.target);
    if (admin_path(path, true)) return admit_admin_path(head, path);
    admission out;
    out.refusal =
        error_response(errc::not_found, "no such path on the admin listener", head.request_id);
    return out;
  };
  service.handle = [admin, verifier](http_request&& req, http_reply reply) {
    bool details = true;
    if (verifier) {
      auto path = req.path();
      bool probe = path == "/health" || path == "/ready";
      if (probe && !req.header("Authorization")) {
        details = false;  // kubelets and load balancers probe without tokens
      } else {
        route guarded;
        guarded.scope = path == "/metrics" ? metrics_scope : admin_scope;
        auto auth = authenticate(guarded, req, verifier.get(), unix_seconds());
        if (auth.refusal) return reply(std::move(*auth.refusal));
      }
    }
    serve_admin(admin, details, std::move(req), std::move(reply));
  };
  return service;
}

http_service make_api_service(admin_endpoints admin, bool details,
                              std::shared_ptr<const router> routes, http_handler entry,
                              std::shared_ptr<const security::token_verifier> verifier,
                              std::shared_ptr<const cors_policy> cors) {
  http_service service;
  service.max_body = routes ? routes->max_body() : 0;
  service.admit = [routes, details, cors](const request_head& head) {
    if (auto refused = refuse_malformed(head)) return *refused;
    auto path = path_of(head.target);
    if (admin_path(path, details)) return admit_admin_path(head, path);
    admission out;
    if (!routes) {
      out.refusal = error_response(errc::not_found, "no route for this path", head.request_id);
      return out;
    }
    // A browser asking whether it may: answered from the table alone, before any token (a
    // preflight carries none) and without a body.
    if (cors && is_preflight(head)) {
      out.route_label = routes->find(http_method::other, path).label;
      out.refusal = answer_preflight(*cors, *routes, path, head);
      return out;
    }
    auto match = routes->find(head.method, path);
    out.route_label = match.label;
    if (match.kind == router::match::not_found) {
      out.refusal = error_response(errc::not_found, "no route for this path", head.request_id);
      return out;
    }
    if (match.kind == router::match::method_not_allowed) {
      auto res = error_response(
          errc::method_not_allowed,
          std::string(method_name(head.method)) + " is not allowed here; use " + match.allow,
          head.request_id);
      res.headers.emplace_back("Allow", match.allow);
      out.refusal = std::move(res);
      return out;
    }
    auto& r = routes->at(match.index);
    if (head.has_body && r.body_limit == 0) {
      out.refusal = error_response(errc::payload_too_large, "this route takes no request body",
                                   head.request_id);
      return out;
    }
    if (head.content_length && *head.content_length > r.body_limit) {
      out.refusal = error_response(errc::payload_too_large,
                                   "the request body exceeds " + std::to_string(r.body_limit) +
                                       " bytes, the limit of this route",
                                   head.request_id);
      return out;
    }
    if (head.has_body && !head.content_type) {
      out.refusal =
          error_response(errc::unsupported_media_type,
                         "a request body needs a Content-Type: " + r.media_type, head.request_id);
      return out;
    }
    if (head.has_body && head.content_type && !media_type_is(*head.content_type, r.media_type)) {
      out.refusal = error_response(errc::unsupported_media_type,
                                   "Content-Type must be " + r.media_type, head.request_id);
      return out;
    }
    out.body_limit = r.body_limit;
    out.route = match.index;
    out.params = std::move(match.params);
    return out;
  };
  service.handle = [admin, details, entry, verifier](http_request&& req, http_reply reply) {
    if (req.route < 0) {
      if (verifier && sagas_path(req.path())) {
        route sagas;
        sagas.scope = admin_scope;
        auto auth = authenticate(sagas, req, verifier.get(), unix_seconds());
        if (auth.refusal) return reply(std::move(*auth.refusal));
      }
      return serve_admin(admin, details, std::move(req), std::move(reply));
    }
    entry(std::move(req), std::move(reply));
  };
  if (cors)
    service.decorate = [cors](std::string_view origin, http_response& res) {
      add_cors_headers(*cors, origin, res);
    };
  return service;
}

security::auth_config read_admin_auth(settings_reader& r) {
  security::auth_config defaults;
  defaults.secret_env = "TROUPE_ADMIN_SECRET";
  return security::read_auth_config(r.section("auth"), defaults, false);
}

}  // namespace troupe
