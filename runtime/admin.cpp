#include "runtime/admin.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "runtime/atoms.hpp"
#include "runtime/http_exchange.hpp"
#include "runtime/metrics.hpp"

namespace troupe {

namespace {

using json = nlohmann::json;

json checks_json(const std::vector<health_check>& checks) {
  json out = json::array();
  for (auto& c : checks)
    out.push_back({{"name", c.name}, {"status", c.ok ? "up" : "down"}, {"detail", c.detail}});
  return out;
}

http_response json_response(int status, const json& body, std::string route) {
  http_response res;
  res.status = status;
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.route = std::move(route);
  return res;
}

struct admin_state {
  static inline const char* name = "troupe.admin";
  std::string node;
  caf::actor directory;
  std::vector<std::pair<std::string, caf::actor>> supervisors;
};

// Collects one health report per supervisor, then answers once.
struct health_round {
  std::string node;
  http_reply reply;
  std::size_t pending = 0;
  std::vector<health_check> checks;
  void add(health_report&& report) {
    for (auto& c : report) checks.push_back(std::move(c));
    if (--pending == 0) finish();
  }
  void finish() {
    bool ok = std::all_of(checks.begin(), checks.end(), [](auto& c) { return c.ok; });
    reply(json_response(
        ok ? 200 : 503,
        {{"status", ok ? "up" : "down"}, {"node", node}, {"checks", checks_json(checks)}},
        "/health"));
  }
};

caf::behavior admin_behavior(caf::stateful_actor<admin_state>* self, std::string node,
                             caf::actor directory,
                             std::vector<std::pair<std::string, caf::actor>> supervisors) {
  self->state.node = std::move(node);
  self->state.directory = std::move(directory);
  self->state.supervisors = std::move(supervisors);
  return {
      [self](http_exchange& ex) {
        auto path = ex.request.path();
        if (path == "/ready") {
          auto reply = std::move(ex.reply);
          self->request(self->state.directory, std::chrono::seconds{2}, ready_atom::value)
              .then(
                  [self, reply](readiness& r) {
                    reply(json_response(r.ready ? 200 : 503,
                                        {{"ready", r.ready},
                                         {"node", self->state.node},
                                         {"checks", checks_json(r.checks)}},
                                        "/ready"));
                  },
                  [reply](caf::error&) {
                    reply(json_error(503, "unavailable", "the directory did not answer", {},
                                     "/ready"));
                  });
          return;
        }
        auto round = std::make_shared<health_round>();
        round->node = self->state.node;
        round->reply = std::move(ex.reply);
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

}  // namespace

caf::actor spawn_admin(caf::actor_system& system, std::string node, caf::actor directory,
                       std::vector<std::pair<std::string, caf::actor>> supervisors) {
  return system.spawn(admin_behavior, std::move(node), std::move(directory),
                      std::move(supervisors));
}

http_handler make_admin_handler(caf::actor admin, metrics& sink, shutdown_flag stopping,
                                http_handler next) {
  return [admin, &sink, stopping, next](http_request&& req, http_reply reply) {
    auto path = req.path();
    bool admin_path = path == "/health" || path == "/ready" || path == "/metrics";
    if (!admin_path) {
      if (next) return next(std::move(req), std::move(reply));
      return reply(json_error(404, "not_found", "no route for " + std::string(path)));
    }
    if (req.method != "GET")
      return reply(json_error(405, "method_not_allowed",
                              "only GET is allowed on " + std::string(path), {},
                              std::string(path)));
    if (path == "/metrics") {
      http_response res;
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      res.body = sink.render();
      res.route = "/metrics";
      return reply(std::move(res));
    }
    if (path == "/ready" && stopping && stopping->load())
      return reply(json_response(
          503,
          {{"ready", false},
           {"checks", {{{"name", "node"}, {"status", "down"}, {"detail", "shutting down"}}}}},
          "/ready"));
    caf::anon_send(admin, http_exchange{std::move(req), std::move(reply)});
  };
}

}  // namespace troupe
