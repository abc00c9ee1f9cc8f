#include "runtime/directory.hpp"

#include <map>
#include <random>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "runtime/atoms.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

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

// remote_actor blocks, so each connection attempt runs on its own thread.
void connect_to_node(caf::blocking_actor* self, caf::actor directory, std::string node,
                     address where, std::vector<std::string> caps,
                     std::chrono::milliseconds timeout) {
  auto node_actor = self->system().middleman().remote_actor(where.host, where.port);
  if (!node_actor) {
    self->send(directory, failed_atom::value, node, self->system().render(node_actor.error()));
    return;
  }
  node_handles result{node, *node_actor, {}};
  std::string problem;
  for (auto& cap : caps) {
    if (!problem.empty()) break;
    self->request(*node_actor, timeout, lookup_atom::value, cap, true)
        .receive([&](caf::strong_actor_ptr& handle) { result.handles.emplace_back(cap, handle); },
                 [&](caf::error& err) { problem = cap + ": " + self->system().render(err); });
  }
  if (!problem.empty())
    self->send(directory, failed_atom::value, node, problem);
  else
    self->send(directory, connected_atom::value, std::move(result));
}

struct entry {
  caf::strong_actor_ptr handle;
  std::string node;
  bool local = false;
  std::string why_unavailable = "not started yet";
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
  std::map<caf::actor_addr, std::string> watched;  // monitored remote actor -> its node
  std::map<std::string, std::vector<caf::actor>> subscribers;
  std::mt19937 rng{std::random_device{}()};
};

using directory_actor = caf::stateful_actor<directory_state>;

void notify(directory_actor* self, const std::string& cap) {
  auto it = self->state.subscribers.find(cap);
  if (it == self->state.subscribers.end()) return;
  auto& e = self->state.entries[cap];
  for (auto& sub : it->second) self->send(sub, update_atom::value, cap, e.handle);
}

std::chrono::milliseconds backoff(directory_actor* self, int failures) {
  auto& cfg = self->state.cfg;
  auto delay = cfg.backoff_min * (1LL << std::min(failures, 16));
  delay = std::min<std::chrono::milliseconds>(delay, cfg.backoff_max);
  // Up to 20% jitter so that many nodes do not reconnect in lockstep.
  std::uniform_int_distribution<long> jitter(0, delay.count() / 5);
  return delay + std::chrono::milliseconds{jitter(self->state.rng)};
}

void start_connect(directory_actor* self, const std::string& node) {
  auto& r = self->state.remotes[node];
  if (r.connecting || r.node_actor) return;
  r.connecting = true;
  self->spawn<caf::detached>(connect_to_node, caf::actor{self}, node, r.where, r.caps,
                             self->state.cfg.lookup_timeout);
}

void lose_node(directory_actor* self, const std::string& node, const std::string& why) {
  auto& r = self->state.remotes[node];
  if (!r.node_actor) return;
  log_warn("directory", "lost node '" + node + "': " + why);
  for (auto it = self->state.watched.begin(); it != self->state.watched.end();)
    it = it->second == node ? self->state.watched.erase(it) : std::next(it);
  r.node_actor = nullptr;  // old proxies never revive; fetch fresh ones
  for (auto& cap : r.caps) {
    auto& e = self->state.entries[cap];
    e.handle = nullptr;
    e.why_unavailable = "node '" + node + "' unreachable: " + why;
    notify(self, cap);
  }
  self->delayed_send(self, backoff(self, r.failures++), retry_atom::value, node);
}

// A capability's handle, or why there is none. `local_only`: only those hosted here (what
// the node actor hands to peers, so handles are never relayed).
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
  for (auto& cap : st.cfg.local)
    st.entries[cap] = entry{nullptr, st.cfg.node, true, "not started yet"};
  for (auto& cap : st.cfg.remote) {
    auto host = st.cfg.topo.host_of(cap);
    st.entries[cap] =
        entry{nullptr, host->name, false, "node '" + host->name + "' not connected yet"};
    auto& r = st.remotes[host->name];
    r.where = *host->listen;
    r.caps.push_back(cap);
  }
  for (auto& [node, r] : st.remotes) start_connect(self, node);

  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    auto it = st.watched.find(msg.source);
    if (it != st.watched.end()) {
      auto node = it->second;
      lose_node(self, node, self->system().render(msg.reason));
      return;
    }
    for (auto& [cap, subs] : st.subscribers)
      subs.erase(std::remove_if(subs.begin(), subs.end(),
                                [&](const caf::actor& a) { return a.address() == msg.source; }),
                 subs.end());
  });

  return {
      [self](register_atom, const std::string& cap, caf::strong_actor_ptr& handle) {
        auto& e = self->state.entries[cap];
        e.local = true;
        e.node = self->state.cfg.node;
        e.handle = std::move(handle);
        e.why_unavailable = e.handle ? "" : "capability is restarting or failed";
        notify(self, cap);
      },
      [self](lookup_atom, const std::string& cap) { return lookup(self, cap, false); },
      [self](lookup_atom, const std::string& cap, bool local_only) {
        return lookup(self, cap, local_only);
      },
      [self](subscribe_atom, const std::string& cap) {
        auto sub = caf::actor_cast<caf::actor>(self->current_sender());
        if (!sub) return;
        self->monitor(sub);
        self->state.subscribers[cap].push_back(sub);
        self->send(sub, update_atom::value, cap, self->state.entries[cap].handle);
      },
      [self](ready_atom) {
        readiness out;
        out.ready = true;
        for (auto& [cap, e] : self->state.entries) {
          health_check check;
          check.name = e.local ? cap : cap + "@" + e.node;
          check.ok = static_cast<bool>(e.handle);
          check.detail = check.ok ? (e.local ? "started" : "reachable") : e.why_unavailable;
          out.ready = out.ready && check.ok;
          out.checks.push_back(std::move(check));
        }
        return out;
      },
      [self](connected_atom, node_handles& result) {
        auto& r = self->state.remotes[result.node];
        r.connecting = false;
        r.failures = 0;
        r.node_actor = result.node_actor;
        self->monitor(result.node_actor);
        self->state.watched[result.node_actor.address()] = result.node;
        for (auto& [cap, handle] : result.handles) {
          self->monitor(caf::actor_cast<caf::actor>(handle));
          self->state.watched[caf::actor_cast<caf::actor_addr>(handle)] = result.node;
          auto& e = self->state.entries[cap];
          e.handle = handle;
          e.why_unavailable.clear();
          notify(self, cap);
        }
        log_info("directory", "connected to node '" + result.node + "' at " + r.where.text());
      },
      [self](failed_atom, const std::string& node, const std::string& why) {
        auto& r = self->state.remotes[node];
        r.connecting = false;
        for (auto& cap : r.caps)
          self->state.entries[cap].why_unavailable = "node '" + node + "': " + why;
        if (r.failures == 0) log_warn("directory", "cannot reach node '" + node + "': " + why);
        self->delayed_send(self, backoff(self, r.failures++), retry_atom::value, node);
      },
      [self](retry_atom, const std::string& node) { start_connect(self, node); },
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
