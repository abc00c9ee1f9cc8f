#include "runtime/node/node.hpp"

#include <sys/resource.h>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "runtime/cluster/directory.hpp"
#include "runtime/cluster/openssl_queue.hpp"
#include "runtime/core/atoms.hpp"
#include "runtime/core/call_context.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/failpoint.hpp"
#include "runtime/events/subscription.hpp"
#include "runtime/http/admin.hpp"
#include "runtime/http/bearer.hpp"
#include "runtime/http/exchange.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/http/server.hpp"
#include "runtime/http/tls.hpp"
#include "runtime/node/data_lock.hpp"
#include "runtime/node/shutdown.hpp"
#include "runtime/observability/log.hpp"
#include "runtime/observability/metrics.hpp"
#include "runtime/observability/tracing.hpp"
#include "runtime/saga/saga.hpp"
#include "runtime/storage/database_checker.hpp"

namespace troupe {

namespace {

using namespace std::chrono_literals;

class node_config : public caf::actor_system_config {
 public:
  node_config(const std::vector<capability>& known, int scheduler,
              const failure_detection& detection, const cluster_tls& tls) {
    configure_node_system(*this, known, scheduler, detection, tls);
  }
};

// How long local capabilities may take to start before the node gives up (exit 3).
constexpr std::chrono::seconds start_limit{20};

const capability* find_capability(const std::vector<capability>& known, const std::string& name) {
  for (auto& cap : known)
    if (cap.name == name) return &cap;
  return nullptr;
}

// What a node needs to know about its place in the topology.
struct placement {
  std::vector<const capability*> hosted;  // in topology order
  std::vector<std::string> view;          // hosted, then what they call
  std::vector<remote_node_spec> remote;   // nodes of the capabilities called from here
  const capability* entry = nullptr;      // the HTTP entry, when hosted here
};

placement place(const topology& topo, const node_spec& node, const std::vector<capability>& known) {
  placement out;
  for (auto& name : node.capabilities) {
    out.hosted.push_back(find_capability(known, name));
    out.view.push_back(name);
  }
  std::map<std::string, remote_node_spec> remote;
  for (auto cap : out.hosted) {
    if (cap->http_entry && !out.entry) out.entry = cap;
    for (auto& need : topo.calls.at(cap->name)) {
      if (std::find(out.view.begin(), out.view.end(), need) == out.view.end())
        out.view.push_back(need);
      auto host = topo.host_of(need);
      if (host->name == node.name) continue;
      auto& r = remote[host->name];
      r.name = host->name;
      r.where = *host->listen;
      if (std::find(r.capabilities.begin(), r.capabilities.end(), need) == r.capabilities.end())
        r.capabilities.push_back(need);
    }
  }
  for (auto& [name, r] : remote) out.remote.push_back(std::move(r));
  return out;
}

// The HTTP entry's route table: the routes of every capability it calls.
std::shared_ptr<const router> routes_for(const topology& topo, const capability& entry,
                                         const std::vector<capability>& known) {
  std::vector<route> table;
  for (auto& name : topo.calls.at(entry.name))
    for (auto r : find_capability(known, name)->routes) {
      r.capability = name;
      auto timeout = topo.http.route_timeouts.find(route_name(r));
      if (timeout != topo.http.route_timeouts.end()) r.timeout = timeout->second;
      table.push_back(std::move(r));
    }
  return std::make_shared<const router>(std::move(table));
}

// Connections a node may accept without running out of file descriptors: the soft
// RLIMIT_NOFILE minus what is open now minus a reserve for the process's own needs (SQLite
// files and checks, node-to-node connections, logs). Running out is worse than refusing:
// at EMFILE the database checker, the middleman and SQLite fail along with the acceptor.
int descriptor_budget() {
  constexpr long reserve = 64;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 30;
  long open = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++open;
  return static_cast<int>(std::max(0L, static_cast<long>(limit.rlim_cur) - open - reserve));
}

readiness ask_ready(caf::scoped_actor& self, const caf::actor& directory) {
  readiness out;
  self->request(directory, 2s, ready_atom::value)
      .receive([&](readiness& r) { out = std::move(r); },
               [&](caf::error& err) {
                 out.checks.push_back({"directory", false, self->system().render(err)});
               });
  return out;
}

// Asks the hosted capabilities that drain (capability::drains) to do so, all at once, waiting
// until `until` at most: each gets the whole time left, not what the ones before it left.
void drain_capabilities(caf::actor_system& sys,
                        const std::vector<std::pair<std::string, caf::actor>>& supervisors,
                        std::chrono::steady_clock::time_point until) {
  auto t0 = std::chrono::steady_clock::now();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - t0);
  if (left <= std::chrono::milliseconds{0}) {
    if (!supervisors.empty())
      log_warn("node",
               "the drain deadline passed while HTTP requests were answered: "
               "capabilities were not asked to drain (their running work resumes "
               "after a restart)");
    return;
  }
  caf::scoped_actor self{sys};
  using handle =
      decltype(self->request(caf::actor{}, caf::infinite, drain_atom::value, std::int64_t{}));
  std::vector<handle> asked;
  for (auto& [name, sup] : supervisors)
    asked.push_back(self->request(sup, left + std::chrono::milliseconds{100}, drain_atom::value,
                                  static_cast<std::int64_t>(left.count())));
  for (std::size_t i = 0; i < asked.size(); ++i)
    asked[i].receive(
        [&](bool) {
          auto took = std::chrono::steady_clock::now() - t0;
          if (took > std::chrono::milliseconds{100})
            log_info("node",
                     "'" + supervisors[i].first + "' drained in " +
                         std::to_string(
                             std::chrono::duration_cast<std::chrono::milliseconds>(took).count()) +
                         " ms");
        },
        [&](caf::error&) {
          log_warn("node", "'" + supervisors[i].first + "' did not finish draining in time");
        });
}

// A node whose capabilities peers call, leaving: waits (5 s at most) for the capabilities'
// entry actors to be gone (CAF tells the peers, which drop their handles), then keeps the
// connections open for `linger` so that calls already on the way are bounced by CAF (the
// caller answers 503, nothing done) instead of vanishing with the connection (504).
void leave_cluster(caf::actor_system& sys, const std::vector<caf::actor>& entries,
                   std::chrono::milliseconds linger) {
  caf::scoped_actor self{sys};
  for (auto& a : entries) self->monitor(a);
  std::size_t down = 0;
  bool waiting = true;
  self->receive_while([&] { return waiting && down < entries.size(); })(
      [&](caf::down_msg&) { ++down; },
      caf::after(std::chrono::seconds{5}) >> [&] { waiting = false; });
  // A grace period for messages in flight on the network: nothing to wait on but time.
  std::this_thread::sleep_for(linger);
}

queue_bound counted_queue_bound(const std::string& capability, std::chrono::milliseconds max_queue,
                                metrics& node_metrics) {
  auto counter = node_metrics.for_shedding(capability);
  queue_bound out;
  out.capability = capability;
  out.max_queue = max_queue;
  out.on_refused = [counter](queue_bound::reason why) mutable {
    counter.shed(why == queue_bound::reason::deadline);
  };
  out.on_mailbox = [counter](std::size_t depth) mutable { counter.mailbox_depth(depth); };
  return out;
}

// The callee's side of the topology's permissions; null when the topology has none. Each
// refusal is logged, at most once a second per callee (a misconfigured caller repeats).
std::shared_ptr<const call_permissions> permissions_of(const topology& topo,
                                                       const std::string& callee) {
  if (!topo.permissions) return nullptr;
  auto it = topo.permissions->find(callee);
  auto allowed =
      it == topo.permissions->end() ? std::map<std::string, std::set<std::string>>{} : it->second;
  auto budget = std::make_shared<log_budget>(1);
  auto report = [budget, callee](const std::string& why) {
    std::uint64_t held_back = 0;
    if (!budget->allow(held_back)) return;
    log_warn(callee, "refused: " + why +
                         (held_back > 0 ? "; " + std::to_string(held_back) +
                                              " refusals before this one were not logged"
                                        : std::string{}));
  };
  return std::make_shared<const call_permissions>(callee, std::move(allowed), report);
}

std::string failing(const readiness& r) {
  std::string out;
  for (auto& c : r.checks)
    if (!c.ok) out += (out.empty() ? "" : "; ") + c.name + " (" + c.detail + ")";
  return out;
}

}  // namespace

thread_plan plan_threads(bool serves_http) {
  auto cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  thread_plan plan;
  plan.http_io = serves_http ? std::max(1, cores / 2) : 0;
  plan.scheduler = std::max(1, cores - plan.http_io);
  return plan;
}

void configure_node_system(caf::actor_system_config& cfg, const std::vector<capability>& known,
                           int scheduler, const failure_detection& detection,
                           const cluster_tls& tls) {
  cfg.load<caf::io::middleman>();
  if (tls.enabled()) {
    use_clean_openssl_error_queue();
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = tls.certificate_file;
    cfg.openssl_key = tls.key_file;
    cfg.openssl_cafile = tls.ca_file;
    if (!tls.key_passphrase_env.empty())
      if (auto* passphrase = std::getenv(tls.key_passphrase_env.c_str()))
        cfg.openssl_passphrase = passphrase;
  }
  cfg.add_error_category(error_category, render_error);
  cfg.add_message_type<call_context>("troupe.call_context");
  cfg.add_message_type<health_check>("troupe.health_check");
  cfg.add_message_type<health_report>("troupe.health_report");
  cfg.add_message_type<readiness>("troupe.readiness");
  events::register_event_types(cfg);
  saga::register_saga_types(cfg);
  // Every node registers every capability's types: interface names must match everywhere.
  for (auto& cap : known) {
    if (cap.register_types) cap.register_types(cfg);
    register_error_codes(cap.errors);
  }
  if (scheduler <= 0) scheduler = plan_threads(false).scheduler;
  cfg.set("scheduler.max-threads", static_cast<std::int64_t>(scheduler));
  // Without heartbeats a silently stopped peer (no TCP reset) is never noticed. Both
  // settings must be the same on every node.
  cfg.set("middleman.heartbeat-interval", caf::timespan{detection.heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{detection.connection_timeout});
}

int run_node(const node_options& opt, const std::vector<capability>& known) {
  auto& topo = opt.topo;
  auto node = topo.nodes.at(opt.node);
  if (opt.http_override) node.http = opt.http_override;
  auto data_dir = opt.data_override.value_or(topo.data_dir);
  auto node_dir = data_dir + "/" + node.name;
  configure_logs(node.name, topo.logs);
  auto plan = place(topo, node, known);
  // The topology's failpoints for this node, beside those of the environment.
  if (!node.failpoints.empty()) configure_failpoints(node.failpoints, true);
  std::unique_ptr<data_lock> lock;
  try {
    lock = std::make_unique<data_lock>(node_dir);
  } catch (const std::exception& e) {
    log_error("node", e.what());
    return 2;
  }
  std::shared_ptr<const router> routes;
  if (plan.entry) routes = routes_for(topo, *plan.entry, known);
  // The entry's token key, before anything starts: no key, a weak one or an unreadable file
  // stops the node here, naming it.
  std::shared_ptr<const security::token_verifier> verifier;
  std::string dev_token;
  const entry_listener* entry_settings = nullptr;
  if (plan.entry && plan.entry->http_entry->listener_of)
    entry_settings = plan.entry->http_entry->listener_of(topo.settings.at(plan.entry->name));
  if (entry_settings) {
    try {
      auto key = security::load_key(entry_settings->auth, node_dir);
      verifier = std::make_shared<const security::token_verifier>(key.settings);
      log_info("node", "bearer tokens (" + key.settings.algorithms.front() +
                           ") are verified with the key from " + key.origin);
      if (key.generated) {
        dev_token = security::mint_token(key.settings, {"dev", {admin_scope}, 0}, unix_seconds(),
                                         std::chrono::hours{24});
      }
    } catch (const std::exception& e) {
      log_error("node", std::string("cannot verify bearer tokens: ") + e.what());
      return 2;
    }
  }
  // And the admin listener's, when the topology asks for admin tokens.
  std::shared_ptr<const security::token_verifier> admin_verifier;
  if (node.admin && topo.admin_auth) {
    try {
      auto key = security::load_key(*topo.admin_auth, node_dir);
      admin_verifier = std::make_shared<const security::token_verifier>(key.settings);
      log_info("node", "the admin listener asks for bearer tokens (" +
                           key.settings.algorithms.front() + ", key from " + key.origin + ")");
    } catch (const std::exception& e) {
      log_error("node", std::string("cannot verify admin tokens: ") + e.what());
      return 2;
    }
  } else if (node.admin && !is_loopback(node.admin->host)) {
    log_warn("node", "the admin listener on " + node.admin->text() +
                         " answers anyone who reaches it (/metrics, /sagas): bind it to "
                         "127.0.0.1, or set \"admin\": {\"auth\": ...} in the topology");
  }
  // Node-to-node TLS: this node's certificate, key and the cluster's authority, checked now,
  // since CAF's module would hang on a wrong passphrase or go anonymous without files.
  cluster_tls node_tls;
  bool talks_to_peers = node.listen || !plan.remote.empty();
  if (topo.node_tls.enabled() && talks_to_peers) {
    node_tls = topo.node_tls.for_node(node.name);
    try {
      tls_settings files;
      files.certificate_file = node_tls.certificate_file;
      files.key_file = node_tls.key_file;
      files.key_passphrase_env = node_tls.key_passphrase_env;
      check_node_certificate(files, node_tls.ca_file);
      log_info("node",
               "peers are reached over TLS and must show a certificate of the "
               "authority in " +
                   node_tls.ca_file);
    } catch (const std::exception& e) {
      log_error("node", std::string("cannot use node-to-node TLS: ") + e.what());
      return 2;
    }
  } else if (talks_to_peers) {
    log_warn("node",
             "node-to-node traffic is neither encrypted nor authenticated: whoever reaches "
             "the listen port can call every capability here; set \"security\": {\"tls\": ...}");
  }
  // Likewise the API listener's certificate and key, when it speaks HTTPS.
  std::shared_ptr<tls_context> api_tls;
  std::shared_ptr<const cors_policy> cors;
  if (entry_settings && node.http) {
    if (entry_settings->tls.enabled()) {
      try {
        api_tls = load_tls_context(entry_settings->tls);
      } catch (const std::exception& e) {
        log_error("node", std::string("cannot serve HTTPS: ") + e.what());
        return 2;
      }
    }
    if (entry_settings->cors.enabled()) cors = std::make_shared<cors_policy>(entry_settings->cors);
  }

  // Declared before the actor system so they outlive it: actors may hold replies that
  // reference sessions of these servers until the system is gone.
  metrics node_metrics;
  // Stops after the actor system is gone (declared before it), so the spans of work that
  // ends as actors stop are exported too, and before the metrics it counts in.
  struct stop_tracing_at_exit {
    ~stop_tracing_at_exit() { tracing::stop(std::chrono::seconds{2}); }
  } stop_tracing_last;
  std::string traces_to;  // for the start-up lines
  try {
    auto traces = topo.tracing;
    traces.file =
        with_placeholder(with_placeholder(traces.file, "{data}", data_dir), "{node}", node.name);
    tracing::start(node.name, traces, &node_metrics);
    if (traces.kind == tracing::settings::exporter::otlp) traces_to = traces.endpoint;
    if (traces.kind == tracing::settings::exporter::file) traces_to = traces.file;
  } catch (const std::exception& e) {
    log_error("node", e.what());
    return 2;
  }
  auto view = std::make_shared<directory_view>(
      plan.view, topo.call_limits.max_in_flight, [&](const std::string& callee) {
        auto seen = node_metrics.for_breaker(callee);  // closed (0) until it changes
        auto on_change = [seen, callee](circuit_breaker::state from, circuit_breaker::state to,
                                        const std::string& why) mutable {
          seen.entered(static_cast<int>(to));
          auto line = "circuit breaker of calls to '" + callee +
                      "': " + circuit_breaker::name(from) + " -> " + circuit_breaker::name(to) +
                      " (" + why + ")";
          if (to == circuit_breaker::state::open)
            log_warn("calls", line);
          else
            log_info("calls", line);
        };
        return std::make_unique<circuit_breaker>(topo.call_limits.breaker_for(callee), on_change);
      });
  view->count_calls(node_metrics);
  std::unique_ptr<http_server> api_server, admin_server;
  auto stopping = std::make_shared<std::atomic<bool>>(false);
  auto escalated = std::make_shared<escalation>();
  auto serving = std::make_shared<std::atomic<bool>>(false);  // past the ready line
  shutdown_watchdog watchdog;  // destroyed after the actor system, i.e. when shutdown is done
  auto threads = plan_threads(node.http && plan.entry);
  node_config cfg{known, threads.scheduler, topo.detection, node_tls};
  caf::actor_system sys{cfg};

  auto gates = std::make_shared<readiness_gates>();
  directory_config dir_cfg;
  dir_cfg.node = node.name;
  dir_cfg.local = node.capabilities;
  dir_cfg.remote = plan.remote;
  dir_cfg.view = view;
  dir_cfg.gates = gates;
  dir_cfg.tls = node_tls.enabled();
  auto directory = spawn_directory(sys, std::move(dir_cfg));
  std::vector<std::pair<std::string, caf::actor>> supervisors;
  std::vector<std::pair<std::string, caf::actor>> draining;  // those with long-running work
  std::vector<database_to_check> databases;
  for (auto cap : plan.hosted) {
    capability_context ctx;
    ctx.system = &sys;
    ctx.name = cap->name;
    ctx.node = node.name;
    ctx.database_path = node_dir + "/" + cap->name + ".db";
    ctx.settings = topo.settings.at(cap->name);
    ctx.directory = directory;
    ctx.view = view;
    ctx.calls = topo.calls.at(cap->name);
    if (cap == plan.entry) {
      ctx.http_entry =
          std::make_shared<const http_entry_context>(http_entry_context{routes, verifier});
    }
    ctx.scheduler_threads = threads.scheduler;
    ctx.node_metrics = &node_metrics;
    ctx.gates = gates;
    ctx.shedding =
        counted_queue_bound(cap->name, topo.call_limits.max_queue_for(cap->name), node_metrics);
    ctx.shedding.permissions = permissions_of(topo, cap->name);
    if (cap->has_database) databases.push_back({cap->name + ".db", ctx.database_path});
    auto start = [cap, ctx](const supervise_function& supervise) {
      auto with = ctx;
      with.supervise = supervise;
      return cap->spawn(with);
    };
    auto& supervision = topo.supervision.at(cap->name);
    // isolate: once the node serves, a capability given up on is reported down (health,
    // metrics, log) and the node keeps serving the others. Before that, a capability that
    // cannot start makes a broken deployment: the node exits 3 either way.
    bool exit_node = supervision.on_give_up == supervision_settings::give_up_kind::exit_node;
    auto give_up = [escalated, serving, exit_node](const std::string& name,
                                                   const std::string& why) {
      if (exit_node || !serving->load())
        escalated->raise("capability '" + name + "' failed: " + why);
    };
    supervisors.emplace_back(cap->name, spawn_supervisor(sys, cap->name, start, directory,
                                                         supervision, give_up, &node_metrics));
    if (cap->drains) draining.push_back(supervisors.back());
  }
  std::vector<caf::actor> to_stop{directory};
  for (auto& [name, sup] : supervisors) to_stop.push_back(sup);
  // Every way out stops the actors and bounds how long the actor system may take to go.
  auto stop_actors = [&] {
    // A node that peers call may also wait for its capabilities to go (5 s) and linger.
    watchdog.arm(std::chrono::seconds{20} +
                 std::chrono::ceil<std::chrono::seconds>(topo.detection.leave));
    for (auto& a : to_stop) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  };
  auto stop_servers = [&] {
    if (api_server) api_server->stop();
    if (admin_server) admin_server->stop();
  };

  // Wait until every local capability has started (or give up: the node is broken).
  auto started = [&] {
    for (auto& name : node.capabilities)
      if (!view->handle(*view->index_of(name))) return false;
    return true;
  };
  auto start_deadline = std::chrono::steady_clock::now() + start_limit;
  int early_signal = 0;
  while (!started() && !escalated->raised() && !early_signal &&
         std::chrono::steady_clock::now() < start_deadline)
    early_signal = wait_for_stop_signal(10ms);
  if (escalated->raised()) {
    log_error("node", "not starting: " + escalated->what());
    stop_actors();
    return 3;
  }
  if (early_signal) {
    stop_actors();
    return 0;
  }
  if (!started()) {
    std::string names;
    for (auto& name : node.capabilities)
      if (!view->handle(*view->index_of(name))) names += " " + name;
    log_error("node", "capabilities did not start within 20 s:" + names);
    stop_actors();
    return 3;
  }

  std::optional<std::uint16_t> listen_port;
  try {
    if (node.listen) {
      auto node_actor = spawn_node_actor(sys, directory);
      to_stop.push_back(node_actor);
      // Over TLS, only peers with a certificate of the cluster's authority get past the
      // handshake, so nothing reaches the node actor (or any other) from anyone else.
      auto port = node_tls.enabled() ? caf::openssl::publish(node_actor, node.listen->port,
                                                             node.listen->host.c_str(), true)
                                     : sys.middleman().publish(node_actor, node.listen->port,
                                                               node.listen->host.c_str(), true);
      if (!port)
        throw std::runtime_error("cannot listen on " + node.listen->text() + ": " +
                                 sys.render(port.error()));
      listen_port = *port;
    }
    std::vector<std::string> database_names;
    for (auto& db : databases) database_names.push_back(db.name);
    std::vector<std::string> saga_owners;
    for (auto cap : plan.hosted)
      if (cap->owns_sagas) saga_owners.push_back(cap->name);
    auto admin =
        spawn_admin(sys, node.name, directory, supervisors, database_names, view, saga_owners);
    to_stop.push_back(admin);
    if (!databases.empty())
      to_stop.push_back(
          spawn_database_checker(sys, databases, topo.health.database_check_interval, admin));
    http_limits limits{topo.http.header_bytes,   topo.http.idle_timeout,
                       topo.http.write_timeout,  topo.http.max_connections,
                       topo.http.header_timeout, topo.http.min_body_rate};
    // Both listeners share the descriptors left; probes and scrapes need few connections.
    auto budget = descriptor_budget();
    auto admin_limits = limits;
    admin_limits.max_connections = std::min({limits.max_connections, 64, std::max(1, budget / 4)});
    limits.max_connections =
        std::min(limits.max_connections,
                 std::max(1, budget - (node.admin ? admin_limits.max_connections : 0)));
    if (limits.max_connections < topo.http.max_connections)
      log_warn("node", "at most " + std::to_string(limits.max_connections) +
                           " API connections: the file-descriptor limit leaves no room for " +
                           std::to_string(topo.http.max_connections) + " (raise ulimit -n)");
    admin_endpoints endpoints{admin, &node_metrics, stopping};
    if (node.admin)
      admin_server =
          std::make_unique<http_server>(*node.admin, make_admin_service(endpoints, admin_verifier),
                                        admin_limits, &node_metrics, "admin", 1);
    if (node.http && plan.entry) {
      auto entry_slot = *view->index_of(plan.entry->name);
      auto entry_name = plan.entry->name;
      auto forward = [view, entry_slot, entry_name](http_request&& req, http_reply reply) {
        // One copy per I/O thread: a request costs an atomic load here, not a mutex.
        thread_local directory_view::cached_handle entry;
        auto& target = entry.get(*view, entry_slot);
        if (!target)
          return reply(error_response(errc::unavailable, "'" + entry_name + "' is restarting",
                                      req.id, {}, 1s));
        caf::anon_send(target, http_exchange{std::move(req), std::move(reply)});
      };
      auto api = make_api_service(endpoints, !node.admin, routes, forward, verifier, cors);
      api.traced_as = entry_name;
      api.access_log = topo.logs.access;
      api_server = std::make_unique<http_server>(*node.http, std::move(api), limits, &node_metrics,
                                                 "api", threads.http_io, api_tls);
    }
  } catch (const std::exception& e) {
    log_error("node", e.what());
    stop_servers();
    stop_actors();
    return 1;
  }

  // Ready means resolved: every capability hosted here started and every one called from
  // here reachable. The directory updates its view before it answers, so from now on
  // nothing on this node sees a capability as missing that /ready reports present.
  {
    caf::scoped_actor self{sys};
    auto waiting_since = std::chrono::steady_clock::now();
    bool told = false;
    for (;;) {
      auto r = ask_ready(self, directory);
      if (r.ready) break;
      if (!told && std::chrono::steady_clock::now() - waiting_since > 3s) {
        std::printf("troupe: waiting for: %s\n", failing(r).c_str());
        std::fflush(stdout);
        told = true;
      }
      if ((early_signal = wait_for_stop_signal(10ms))) break;
    }
  }

  int sig = early_signal;
  if (!sig) {
    auto shown = [](const std::optional<address>& a, const std::unique_ptr<http_server>& s) {
      return a ? a->host + ":" + std::to_string(s ? s->port() : a->port) : std::string("-");
    };
    auto listen_text =
        node.listen ? node.listen->host + ":" + std::to_string(*listen_port) : std::string("-");
    std::printf("troupe: node '%s' of topology '%s' (%s)\n", node.name.c_str(), topo.name.c_str(),
                opt.topology_file.c_str());
    for (auto cap : plan.hosted) {
      std::printf("  capability %s", cap->name.c_str());
      for (auto& need : topo.calls.at(cap->name)) {
        auto host = topo.host_of(need);
        std::printf("  calls %s@%s", need.c_str(),
                    host->name == node.name ? "local" : host->name.c_str());
      }
      std::printf("\n");
    }
    std::printf("  http    %s\n  admin   %s\n  listen  %s\n", shown(node.http, api_server).c_str(),
                shown(node.admin, admin_server).c_str(), listen_text.c_str());
    for (auto& db : databases) std::printf("  data    %s\n", db.path.c_str());
    if (!traces_to.empty()) std::printf("  traces  %s\n", traces_to.c_str());
    if (!dev_token.empty()) {
      // Dev mode made its own secret: a token to start with (sub "dev", scope admin, 24 h).
      std::printf("  token   %s\n", dev_token.c_str());
      std::printf(
          "          (sub dev, scope admin, valid 24 h; troupe token --sub ID mints others)\n");
      // A route to try the token on: a GET without a path parameter that needs the token's
      // admin scope (so it shows what the token is for), else the first GET without one.
      const route* example = nullptr;
      for (auto& r : routes->routes())
        if (r.method == http_method::get && r.path.find('{') == std::string::npos &&
            (!example || (r.scope == admin_scope && example->scope != admin_scope)))
          example = &r;
      if (example)
        std::printf("  try     curl -H 'Authorization: Bearer %s' http://%s%s\n", dev_token.c_str(),
                    shown(node.http, api_server).c_str(), example->path.c_str());
    }
    serving->store(true);
    std::printf("troupe: ready node=%s http=%s admin=%s listen=%s\n", node.name.c_str(),
                shown(node.http, api_server).c_str(), shown(node.admin, admin_server).c_str(),
                listen_text.c_str());
    std::fflush(stdout);
    sig = wait_for_stop_signal();
  }

  int status = 0;
  if (escalated->raised()) {
    log_error("node", "stopping: " + escalated->what());
    status = 3;
  } else {
    log_info("node", std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
  }

  // Drain: /ready turns 503, no new connections, requests already received get their
  // answers; capabilities finish their running work (orders: its sagas) and take no new
  // long-running work; all within the drain deadline. Then the actors stop and the system
  // waits for them. Work cut off at the deadline resumes from its log after a restart.
  stopping->store(true);
  auto drain_until = std::chrono::steady_clock::now() + topo.detection.drain;
  if (api_server) {
    api_server->stop(topo.detection.drain);
    if (api_server->in_flight() > 0)
      log_warn("node", std::to_string(api_server->in_flight()) +
                           " requests were still unanswered at the drain deadline");
  }
  drain_capabilities(sys, draining, drain_until);
  if (admin_server) admin_server->stop();
  // The entry actors peers hold handles of: the node leaves once they are gone.
  std::vector<caf::actor> entries;
  for (auto& name : node.capabilities)
    if (auto handle = view->handle(*view->index_of(name))) entries.push_back(handle);
  stop_actors();
  if (listen_port) leave_cluster(sys, entries, topo.detection.leave);
  if (listen_port) sys.middleman().close(*listen_port);
  std::printf("troupe: stopped node=%s\n", node.name.c_str());
  std::fflush(stdout);
  return status;
}

}  // namespace troupe
