#include "runtime/cluster/directory.hpp"

#include <map>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/remote_actor.hpp>

#include "runtime/core/atoms.hpp"
#include "runtime/core/error.hpp"
#include "runtime/observability/log.hpp"

namespace troupe {

namespace {

using handle_list = std::vector<std::pair<std::string, caf::strong_actor_ptr>>;

// What a connector reports back: the node actor's proxy and the handles it gave us.
struct node_handles {
  std::string node;
  caf::actor node_actor;
  handle_list handles;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_handles& x) {
  return f(caf::meta::type_name("troupe.node_handles"), x.node, x.node_actor, x.handles);
}

using failed_atom = caf::atom_constant<caf::atom("failed")>;
using refetch_atom = caf::atom_constant<caf::atom("refetch")>;

// remote_actor blocks, so each connection attempt runs on its own thread. An event-based
// detached actor, not a blocking one: CAF 0.17 releases a blocking actor's last reference on
// its thread after the actor system stopped waiting for it, so a node could exit while that
// thread still destroys the actor (seen under AddressSanitizer as exits with status 1). A
// detached event-based actor's thread is awaited until the actor is destroyed.
caf::behavior connect_to_node(caf::event_based_actor* self, caf::actor directory, std::string node,
                              address where, std::vector<std::string> caps,
                              std::chrono::milliseconds timeout, bool tls) {
  auto node_actor = tls ? caf::openssl::remote_actor(self->system(), where.host, where.port)
                        : self->system().middleman().remote_actor(where.host, where.port);
  if (!node_actor) {
    self->send(directory, failed_atom::value, node, self->system().render(node_actor.error()));
    self->quit();
    return {};
  }
  node_handles result{node, *node_actor, {}};
  std::string problem;
  {
    caf::scoped_actor blocking{self->system()};
    for (auto& cap : caps) {
      if (!problem.empty()) break;
      blocking->request(*node_actor, timeout, lookup_atom::value, cap, true)
          .receive([&](caf::strong_actor_ptr& handle) { result.handles.emplace_back(cap, handle); },
                   [&](caf::error& err) { problem = cap + ": " + self->system().render(err); });
    }
  }
  if (!problem.empty())
    self->send(directory, failed_atom::value, node, problem);
  else
    self->send(directory, connected_atom::value, std::move(result));
  self->quit();
  return {};
}

struct entry {
  caf::strong_actor_ptr handle;
  std::string node;
  bool local = false;
  std::string why_unavailable = "not started yet";
  std::size_t slot = 0;  // in the view
  int refetch_failures = 0;
  bool given_up = false;  // local, and its supervisor gave up: down until the node restarts
};

struct remote_node {
  address where;
  std::vector<std::string> caps;
  caf::actor node_actor;  // set while connected
  bool connecting = false;
  int failures = 0;
};

struct directory_state {
  static inline const char* name = "troupe.directory";
  directory_config cfg;
  std::map<std::string, entry> entries;
  std::map<std::string, remote_node> remotes;
  std::map<caf::actor_addr, std::string> node_actors;  // monitored node actor -> its node
  std::map<caf::actor_addr, std::string> remote_caps;  // monitored remote handle -> capability
};

using directory_actor = caf::stateful_actor<directory_state>;

// The one place an entry changes: the view first, so readers never lag behind readiness.
void set_entry(directory_actor* self, const std::string& cap, caf::strong_actor_ptr handle,
               std::string why, bool still_answering = false) {
  auto& e = self->state.entries[cap];
  e.handle = std::move(handle);
  e.why_unavailable = e.handle ? std::string{} : std::move(why);
  self->state.cfg.view->set(e.slot, caf::actor_cast<caf::actor>(e.handle), e.why_unavailable,
                            still_answering);
}

void start_connect(directory_actor* self, const std::string& node) {
  auto& r = self->state.remotes[node];
  if (r.connecting || r.node_actor) return;
  r.connecting = true;
  self->spawn<caf::detached>(connect_to_node, caf::actor{self}, node, r.where, r.caps,
                             self->state.cfg.lookup_timeout, self->state.cfg.tls);
}

void retry_later(directory_actor* self, const std::string& node) {
  auto& r = self->state.remotes[node];
  self->delayed_send(self, backoff_delay(self->state.cfg.reconnect, r.failures++),
                     retry_atom::value, node);
}

// `still_answering`: the node is leaving (its node actor stopped) but still connected, so CAF
// bounces the calls its capabilities did not process (see directory_view::set).
void lose_node(directory_actor* self, const std::string& node, const std::string& why,
               bool still_answering = false) {
  auto& st = self->state;
  auto& r = st.remotes[node];
  if (!r.node_actor) return;
  log_warn("directory", "lost node '" + node + "': " + why);
  for (auto it = st.node_actors.begin(); it != st.node_actors.end();)
    it = it->second == node ? st.node_actors.erase(it) : std::next(it);
  for (auto it = st.remote_caps.begin(); it != st.remote_caps.end();)
    it = st.entries[it->second].node == node ? st.remote_caps.erase(it) : std::next(it);
  r.node_actor = nullptr;  // old proxies never revive; fetch fresh ones
  for (auto& cap : r.caps)
    set_entry(self, cap, nullptr, "node '" + node + "' unreachable: " + why, still_answering);
  retry_later(self, node);
}

void watch_remote(directory_actor* self, const std::string& cap, caf::strong_actor_ptr handle) {
  auto& st = self->state;
  st.remote_caps[caf::actor_cast<caf::actor_addr>(handle)] = cap;
  self->monitor(caf::actor_cast<caf::actor>(handle));
  st.entries[cap].refetch_failures = 0;
  set_entry(self, cap, std::move(handle), "");
}

// A remote capability restarted (or failed) while its node stayed up: fetch it again from
// that node, with backoff while it is still starting.
void refetch(directory_actor* self, const std::string& cap) {
  auto& st = self->state;
  auto& e = st.entries[cap];
  auto& r = st.remotes[e.node];
  if (!r.node_actor || e.handle) return;  // lost with its node, or already back
  self->request(r.node_actor, st.cfg.lookup_timeout, lookup_atom::value, cap, true)
      .then(
          [self, cap](caf::strong_actor_ptr& handle) {
            auto& e = self->state.entries[cap];
            if (e.handle || !self->state.remotes[e.node].node_actor) return;
            log_info("directory", "capability '" + cap + "' on node '" + e.node + "' is back");
            watch_remote(self, cap, std::move(handle));
          },
          [self, cap](caf::error& err) {
            auto& e = self->state.entries[cap];
            e.why_unavailable =
                "restarting on node '" + e.node + "': " + self->system().render(err);
            self->delayed_send(self, backoff_delay(self->state.cfg.reconnect, e.refetch_failures++),
                               refetch_atom::value, cap);
          });
}

// A capability's handle, or why there is none.
caf::result<caf::strong_actor_ptr> lookup(directory_actor* self, const std::string& cap,
                                          bool local_only) {
  auto it = self->state.entries.find(cap);
  if (it == self->state.entries.end() || (local_only && !it->second.local))
    return make_error(errc::unavailable, local_only
                                             ? "capability '" + cap + "' is not hosted on node '" +
                                                   self->state.cfg.node + "'"
                                             : "capability '" + cap + "' is not known here");
  if (!it->second.handle)
    return make_error(errc::unavailable,
                      "capability '" + cap + "' is unavailable: " + it->second.why_unavailable);
  return it->second.handle;
}

caf::behavior directory_behavior(directory_actor* self, directory_config cfg) {
  self->state.cfg = std::move(cfg);
  auto& st = self->state;
  auto slot_of = [&](const std::string& cap) {
    auto slot = st.cfg.view->index_of(cap);
    if (!slot) throw std::logic_error("directory view lacks capability '" + cap + "'");
    return *slot;
  };
  for (auto& cap : st.cfg.local)
    st.entries[cap] = entry{nullptr, st.cfg.node, true, "not started yet", slot_of(cap)};
  for (auto& node : st.cfg.remote) {
    auto& r = st.remotes[node.name];
    r.where = node.where;
    r.caps = node.capabilities;
    for (auto& cap : node.capabilities)
      st.entries[cap] = entry{nullptr, node.name, false,
                              "node '" + node.name + "' not connected yet", slot_of(cap)};
  }
  for (auto& [cap, e] : st.entries) st.cfg.view->set(e.slot, nullptr, e.why_unavailable);
  for (auto& [node, r] : st.remotes) start_connect(self, node);

  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto why = self->system().render(msg.reason);
    if (auto it = st.node_actors.find(msg.source); it != st.node_actors.end()) {
      auto node = it->second;
      return lose_node(self, node, why, msg.reason != caf::exit_reason::remote_link_unreachable);
    }
    auto it = st.remote_caps.find(msg.source);
    if (it == st.remote_caps.end()) return;
    auto cap = it->second;
    st.remote_caps.erase(it);
    auto node = st.entries[cap].node;
    if (msg.reason == caf::exit_reason::remote_link_unreachable) return lose_node(self, node, why);
    log_warn("directory", "capability '" + cap + "' on node '" + node + "' went down: " + why);
    set_entry(self, cap, nullptr, "restarting on node '" + node + "': " + why, true);
    auto& e = st.entries[cap];
    self->delayed_send(self, backoff_delay(st.cfg.reconnect, e.refetch_failures++),
                       refetch_atom::value, cap);
  });

  return {
      [self](register_atom, const std::string& cap, caf::strong_actor_ptr& handle) {
        auto& e = self->state.entries[cap];
        if (!e.local) return;  // only capabilities hosted here register
        set_entry(self, cap, std::move(handle), "capability is restarting or failed", true);
      },
      [self](given_up_atom, const std::string& cap, const std::string& why) {
        auto& e = self->state.entries[cap];
        if (!e.local) return;
        e.given_up = true;
        set_entry(self, cap, nullptr, "down: " + why, true);
      },
      [self](lookup_atom, const std::string& cap, bool local_only) {
        return lookup(self, cap, local_only);
      },
      [self](ready_atom) {
        readiness out;
        out.ready = true;
        for (auto& [cap, e] : self->state.entries) {
          health_check check;
          check.name = e.local ? cap : cap + "@" + e.node;
          check.ok = static_cast<bool>(e.handle);
          check.detail = check.ok ? (e.local ? "started" : "reachable") : e.why_unavailable;
          // A capability given up on is reported (here and in /health) but does not take
          // the node's other capabilities out of service.
          out.ready = out.ready && (check.ok || e.given_up);
          out.checks.push_back(std::move(check));
        }
        if (self->state.cfg.gates)
          for (auto& gate : self->state.cfg.gates->held()) {
            out.ready = false;
            out.checks.push_back(std::move(gate));
          }
        return out;
      },
      [self](connected_atom, node_handles& result) {
        auto& st = self->state;
        auto& r = st.remotes[result.node];
        r.connecting = false;
        r.failures = 0;
        r.node_actor = result.node_actor;
        self->monitor(result.node_actor);
        st.node_actors[result.node_actor.address()] = result.node;
        for (auto& [cap, handle] : result.handles) watch_remote(self, cap, std::move(handle));
        log_info("directory", "connected to node '" + result.node + "' at " + r.where.text());
      },
      [self](failed_atom, const std::string& node, const std::string& why) {
        auto& r = self->state.remotes[node];
        r.connecting = false;
        for (auto& cap : r.caps) set_entry(self, cap, nullptr, "node '" + node + "': " + why);
        if (r.failures == 0) log_warn("directory", "cannot reach node '" + node + "': " + why);
        retry_later(self, node);
      },
      [self](retry_atom, const std::string& node) { start_connect(self, node); },
      [self](refetch_atom, const std::string& cap) { refetch(self, cap); },
  };
}

}  // namespace

caf::actor spawn_directory(caf::actor_system& system, directory_config config) {
  return system.spawn(directory_behavior, std::move(config));
}

caf::actor spawn_node_actor(caf::actor_system& system, caf::actor directory) {
  // Arguments are passed, not captured: CAF 0.17 dereferences a null pointer when a
  // function actor is spawned without arguments (UBSan reports it).
  return system.spawn(
      [](caf::event_based_actor* self, caf::actor dir) -> caf::behavior {
        return {
            [self, dir](lookup_atom, const std::string& cap, bool) {
              return self->delegate(dir, lookup_atom::value, cap, true);
            },
        };
      },
      std::move(directory));
}

}  // namespace troupe
