#include "runtime/node.hpp"

#include <unistd.h>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "runtime/admin.hpp"
#include "runtime/atoms.hpp"
#include "runtime/call_context.hpp"
#include "runtime/directory.hpp"
#include "runtime/error.hpp"
#include "runtime/http_exchange.hpp"
#include "runtime/http_server.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics.hpp"
#include "runtime/supervisor.hpp"

namespace troupe {

namespace {

using namespace std::chrono_literals;

class node_config : public caf::actor_system_config {
 public:
  explicit node_config(const std::vector<capability>& known) {
    configure_node_system(*this, known);
  }
};

// The HTTP-serving capability's current handle, read by I/O threads on every request.
struct entry_point {
  std::mutex mtx;
  caf::actor target;
  std::string name;
};

// Bounds shutdown: CAF's registry keeps an actor alive while a connected peer still holds a
// proxy to it, and the actor system's destructor waits for such actors forever. Our own
// nodes drop proxies as soon as a monitor fires; a foreign or stuck peer may not.
class shutdown_watchdog {
 public:
  void arm(std::chrono::seconds limit) {
    thread_ = std::thread([this, limit] {
      std::unique_lock<std::mutex> lock{mtx_};
      if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
        log_error("node", "shutdown still waiting after " + std::to_string(limit.count()) +
                              " s for actors that remote peers hold; exiting without them");
        std::_Exit(1);
      }
    });
  }
  ~shutdown_watchdog() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// A capability the supervisor gave up on: the node stops (exit 3) rather than serve without it.
struct escalation {
  std::mutex mtx;
  std::string what;
  std::atomic<bool> raised{false};
};

// How long in-flight HTTP requests may take to finish when the node is asked to stop.
constexpr std::chrono::milliseconds shutdown_grace{10000};

}  // namespace

void configure_node_system(caf::actor_system_config& cfg, const std::vector<capability>& known) {
  cfg.load<caf::io::middleman>();
  cfg.add_error_category(error_category, render_error);
  cfg.add_message_type<call_context>("troupe.call_context");
  cfg.add_message_type<health_check>("troupe.health_check");
  cfg.add_message_type<health_report>("troupe.health_report");
  cfg.add_message_type<readiness>("troupe.readiness");
  // Every node registers every capability's types: interface names must match everywhere.
  for (auto& cap : known) cap.register_types(cfg);
  auto cores = std::max(2u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<std::int64_t>(cores));
  // Without heartbeats a silently stopped peer (no TCP reset) is never noticed. Both
  // settings must be the same on every node.
  cfg.set("middleman.heartbeat-interval", caf::timespan{500ms});
  cfg.set("middleman.connection-timeout", caf::timespan{2s});
}

int run_node(const node_options& opt, const std::vector<capability>& known) {
  auto node = opt.topo.nodes.at(opt.node);
  if (opt.http_override) node.http = opt.http_override;
  auto data_dir = opt.data_override.value_or(opt.topo.data_dir);
  auto node_dir = data_dir + "/" + node.name;

  // The capabilities this node hosts, in topology order (the topology names only known ones).
  std::vector<const capability*> hosted;
  for (auto& name : node.capabilities)
    for (auto& cap : known)
      if (cap.traits.name == name) hosted.push_back(&cap);

  std::vector<std::string> remote;
  const capability* http_cap = nullptr;
  for (auto cap : hosted) {
    if (cap->traits.serves_http && !http_cap) http_cap = cap;
    for (auto& need : cap->traits.needs) {
      bool local = std::count(node.capabilities.begin(), node.capabilities.end(), need) > 0;
      if (!local && std::count(remote.begin(), remote.end(), need) == 0) remote.push_back(need);
    }
  }

  // Declared before the actor system so they outlive it: actors may hold replies that
  // reference sessions of these servers until the system is gone.
  metrics node_metrics;
  std::unique_ptr<http_server> api_server, admin_server;
  auto entry = std::make_shared<entry_point>();
  auto stopping = std::make_shared<std::atomic<bool>>(false);
  auto escalated = std::make_shared<escalation>();
  auto on_give_up = [escalated](const std::string& cap, const std::string& why) {
    {
      std::lock_guard<std::mutex> guard{escalated->mtx};
      if (escalated->what.empty()) escalated->what = "capability '" + cap + "' failed: " + why;
    }
    escalated->raised = true;
    kill(getpid(), SIGTERM);  // wakes the main thread's sigwait; shutdown drains as usual
  };
  shutdown_watchdog watchdog;  // destroyed after the actor system, i.e. when shutdown is done
  node_config cfg{known};
  caf::actor_system sys{cfg};

  auto directory =
      spawn_directory(sys, directory_config{node.name, opt.topo, node.capabilities, remote});
  std::vector<std::pair<std::string, caf::actor>> supervisors;
  for (auto cap : hosted) {
    capability_context ctx;
    ctx.system = &sys;
    ctx.name = cap->traits.name;
    ctx.node = node.name;
    ctx.database_path = node_dir + "/" + ctx.name + ".db";
    auto s = opt.topo.settings.find(ctx.name);
    ctx.settings_json = s == opt.topo.settings.end() ? "{}" : s->second;
    ctx.directory = directory;
    ctx.node_metrics = &node_metrics;
    supervisors.emplace_back(ctx.name, spawn_supervisor(sys, *cap, ctx, {}, on_give_up));
  }
  std::vector<caf::actor> to_stop{directory};
  for (auto& [name, sup] : supervisors) to_stop.push_back(sup);
  auto stop_actors = [&] {
    for (auto& a : to_stop) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  };

  // Wait until every local capability has started (or give up: the node is broken).
  {
    caf::scoped_actor self{sys};
    std::set<std::string> waiting(node.capabilities.begin(), node.capabilities.end());
    for (auto& name : waiting) self->send(directory, subscribe_atom::value, name);
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!waiting.empty() && !escalated->raised && std::chrono::steady_clock::now() < deadline) {
      self->receive(
          [&](update_atom, const std::string& name, const caf::strong_actor_ptr& handle) {
            if (handle) waiting.erase(name);
          },
          caf::after(std::chrono::milliseconds{200}) >> [] {});
    }
    if (escalated->raised) {
      log_error("node", "not starting: " + escalated->what);
      stop_actors();
      return 3;
    }
    if (!waiting.empty()) {
      std::string names;
      for (auto& n : waiting) names += " " + n;
      log_error("node", "capabilities did not start within 20 s:" + names);
      stop_actors();
      return 3;
    }
  }

  std::optional<std::uint16_t> listen_port;
  try {
    if (node.listen) {
      auto node_actor = spawn_node_actor(sys, directory);
      to_stop.push_back(node_actor);
      auto port =
          sys.middleman().publish(node_actor, node.listen->port, node.listen->host.c_str(), true);
      if (!port)
        throw std::runtime_error("cannot listen on " + node.listen->text() + ": " +
                                 sys.render(port.error()));
      listen_port = *port;
    }
    auto admin = spawn_admin(sys, node.name, directory, supervisors);
    to_stop.push_back(admin);
    if (node.admin)
      admin_server = std::make_unique<http_server>(
          *node.admin, make_admin_handler(admin, node_metrics, stopping), http_limits{},
          &node_metrics, 1);
    if (node.http && http_cap) {
      entry->name = http_cap->traits.name;
      auto subscriber = sys.spawn(
          [](caf::event_based_actor* self, std::shared_ptr<entry_point> ep,
             caf::actor dir) -> caf::behavior {
            self->send(dir, subscribe_atom::value, ep->name);
            return {[ep](update_atom, const std::string&, const caf::strong_actor_ptr& handle) {
              std::lock_guard<std::mutex> guard{ep->mtx};
              ep->target = caf::actor_cast<caf::actor>(handle);
            }};
          },
          entry, directory);
      to_stop.push_back(subscriber);
      auto forward = [entry](http_request&& req, http_reply reply) {
        caf::actor target;
        {
          std::lock_guard<std::mutex> guard{entry->mtx};
          target = entry->target;
        }
        if (!target)
          return reply(json_error(503, "unavailable", "the " + entry->name + " is restarting"));
        caf::anon_send(target, http_exchange{std::move(req), std::move(reply)});
      };
      auto io_threads = std::max(1u, std::thread::hardware_concurrency() / 2);
      api_server = std::make_unique<http_server>(
          *node.http, make_admin_handler(admin, node_metrics, stopping, forward), http_limits{},
          &node_metrics, static_cast<int>(io_threads));
    }
  } catch (const std::exception& e) {
    log_error("node", e.what());
    if (api_server) api_server->stop();
    if (admin_server) admin_server->stop();
    stop_actors();
    return 1;
  }

  auto shown = [](const std::optional<address>& a, const std::unique_ptr<http_server>& s) {
    return a ? a->host + ":" + std::to_string(s ? s->port() : a->port) : std::string("-");
  };
  auto listen_text =
      node.listen ? node.listen->host + ":" + std::to_string(*listen_port) : std::string("-");
  std::printf("troupe: node '%s' of topology '%s' (%s)\n", node.name.c_str(), opt.topo.name.c_str(),
              opt.topology_file.c_str());
  for (auto cap : hosted) {
    std::printf("  capability %s", cap->traits.name.c_str());
    for (auto& need : cap->traits.needs) {
      auto host = opt.topo.host_of(need);
      std::printf("  calls %s@%s", need.c_str(),
                  host->name == node.name ? "local" : host->name.c_str());
    }
    std::printf("\n");
  }
  std::printf("  http    %s\n  admin   %s\n  listen  %s\n", shown(node.http, api_server).c_str(),
              shown(node.admin, admin_server).c_str(), listen_text.c_str());
  for (auto cap : hosted)
    if (!cap->traits.serves_http)
      std::printf("  data    %s/%s.db\n", node_dir.c_str(), cap->traits.name.c_str());
  std::printf("troupe: ready node=%s http=%s admin=%s listen=%s\n", node.name.c_str(),
              shown(node.http, api_server).c_str(), shown(node.admin, admin_server).c_str(),
              listen_text.c_str());
  std::fflush(stdout);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int sig = 0;
  sigwait(&signals, &sig);
  int status = 0;
  if (escalated->raised) {
    std::lock_guard<std::mutex> guard{escalated->mtx};
    log_error("node", "stopping: " + escalated->what);
    status = 3;
  } else {
    log_info("node", std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
  }

  // Drain: /ready turns 503, no new connections, requests already received get their
  // answers (bounded by the grace period); then the actors stop and the system waits for them.
  stopping->store(true);
  if (api_server) {
    api_server->stop(shutdown_grace);
    if (api_server->in_flight() > 0)
      log_warn("node", std::to_string(api_server->in_flight()) +
                           " requests were still unanswered after the grace period");
  }
  if (admin_server) admin_server->stop();
  watchdog.arm(std::chrono::seconds{15});
  stop_actors();
  if (listen_port) sys.middleman().close(*listen_port);
  std::printf("troupe: stopped node=%s\n", node.name.c_str());
  std::fflush(stdout);
  return status;
}

}  // namespace troupe
