#include "runtime/http/admin.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "runtime/http/exchange.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/http/router.hpp"
#include "runtime/observability/metrics.hpp"

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
};

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
                             std::vector<std::string> databases) {
  auto& st = self->state;
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

bool admin_path(std::string_view path, bool with_metrics) {
  return path == "/health" || path == "/ready" || (with_metrics && path == "/metrics");
}

// Admission of an admin path: GET only, no body.
admission admit_admin_path(const request_head& head, std::string_view path) {
  admission out;
  out.route_label = path == "/health" ? "/health" : path == "/ready" ? "/ready" : "/metrics";
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
                       std::vector<std::string> databases) {
  return system.spawn(admin_behavior, std::move(node), std::move(directory), std::move(supervisors),
                      std::move(databases));
}

http_service make_admin_service(admin_endpoints admin) {
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
  service.handle = [admin](http_request&& req, http_reply reply) {
    serve_admin(admin, true, std::move(req), std::move(reply));
  };
  return service;
}

http_service make_api_service(admin_endpoints admin, bool details,
                              std::shared_ptr<const router> routes, http_handler entry) {
  http_service service;
  service.max_body = routes ? routes->max_body() : 0;
  service.admit = [routes, details](const request_head& head) {
    if (auto refused = refuse_malformed(head)) return *refused;
    auto path = path_of(head.target);
    if (admin_path(path, details)) return admit_admin_path(head, path);
    admission out;
    if (!routes) {
      out.refusal = error_response(errc::not_found, "no route for this path", head.request_id);
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
  service.handle = [admin, details, entry](http_request&& req, http_reply reply) {
    if (req.route < 0) return serve_admin(admin, details, std::move(req), std::move(reply));
    entry(std::move(req), std::move(reply));
  };
  return service;
}

}  // namespace troupe
