#include "runtime/node/topology.hpp"

#include "runtime/core/failpoint.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace troupe {

using json = nlohmann::json;

topology_error::topology_error(std::string file, std::string path, std::string problem)
    : std::runtime_error(file + ": " + (path.empty() ? "(document)" : path) + ": " + problem),
      file_(std::move(file)),
      path_(std::move(path)),
      problem_(std::move(problem)) {}

const node_spec* topology::host_of(const std::string& capability) const {
  for (auto& [name, node] : nodes)
    if (std::find(node.capabilities.begin(), node.capabilities.end(), capability) !=
        node.capabilities.end())
      return &node;
  return nullptr;
}

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool valid_node_name(const std::string& name) {
  return !name.empty() && name.size() <= 63 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

class checker {
 public:
  checker(std::string file, const std::vector<capability>& known)
      : file_(std::move(file)), known_(known) {}

  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    throw topology_error(file_, path, problem);
  }

  void only_keys(const json& obj, const std::string& path, std::set<std::string> allowed) const {
    if (recording_setting_paths())
      for (auto& key : allowed) note_setting_path(path + "/" + escape_pointer_token(key));
    for (auto& [key, value] : obj.items())
      if (!allowed.count(key))
        fail(path + "/" + escape_pointer_token(key),
             "unknown key '" + key + "' (allowed: " +
                 join(std::vector<std::string>(allowed.begin(), allowed.end())) + ")");
  }

  std::string string_at(const json& obj, const std::string& key, const std::string& path,
                        std::string fallback) const {
    if (!obj.contains(key)) return fallback;
    if (!obj[key].is_string()) fail(path + "/" + key, "must be a string");
    return obj[key].get<std::string>();
  }

  // With `default_host`, a port alone ("9101" or ":9101") is that host's.
  std::optional<address> address_at(const json& obj, const std::string& key,
                                    const std::string& path,
                                    const std::string& default_host = {}) const {
    if (!obj.contains(key)) return std::nullopt;
    auto& value = obj[key];
    if (!value.is_string()) fail(path + "/" + key, "must be a string \"host:port\"");
    auto text = value.get<std::string>();
    if (!default_host.empty() && !text.empty() && text.size() <= 6 &&
        text.find_first_not_of(":0123456789") == std::string::npos &&
        text.rfind(':') == (text[0] == ':' ? 0 : std::string::npos))
      text = default_host + ":" + (text[0] == ':' ? text.substr(1) : text);
    auto addr = parse_address(text);
    if (!addr)
      fail(path + "/" + key,
           "'" + value.get<std::string>() + "' is not an address of the form host:port");
    return addr;
  }

  const capability* known(const std::string& name) const {
    for (auto& cap : known_)
      if (cap.name == name) return &cap;
    return nullptr;
  }

  std::string known_names() const {
    std::vector<std::string> names;
    for (auto& cap : known_) names.push_back(cap.name);
    return join(names);
  }

  // "GET /api/users/{id}": a route some known capability declares.
  bool declared_route(const std::string& name) const {
    for (auto& cap : known_)
      for (auto& r : cap.routes)
        if (name == route_name(r)) return true;
    return false;
  }

  // Runs `read` on the object at `key` (or on {} when absent), turning settings errors into
  // topology errors with their path.
  template <class Read>
  void read_section(const json& doc, const std::string& key, Read read) const {
    static const json empty = json::object();
    const json& section = doc.contains(key) ? doc[key] : empty;
    try {
      settings_reader reader{section, "/" + key};
      read(reader);
      reader.finish();
    } catch (const settings_error& e) {
      fail(e.path(), e.problem());
    }
  }

  void read_permissions(const json& doc, topology& topo) const {
    if (!doc.contains("permissions")) return;
    auto& section = doc["permissions"];
    if (!section.is_object())
      fail("/permissions", "must be an object: callee -> caller -> [operations]");
    auto& out = topo.permissions.emplace();
    for (auto& [callee, callers] : section.items()) {
      auto path = "/permissions/" + escape_pointer_token(callee);
      auto* cap = known(callee);
      if (!cap) fail(path, "unknown capability '" + callee + "' (known: " + known_names() + ")");
      if (!callers.is_object()) fail(path, "must be an object: caller -> [operations]");
      auto& mine = out[callee];
      for (auto& [caller, operations] : callers.items()) {
        auto at = path + "/" + escape_pointer_token(caller);
        if (!known(caller))
          fail(at, "unknown capability '" + caller + "' (known: " + known_names() + ")");
        if (!operations.is_array() || operations.size() > 64)
          fail(at, "must be a list of at most 64 operations of " + callee + ", or [\"*\"]");
        for (std::size_t i = 0; i < operations.size(); ++i) {
          auto& op = operations[i];
          auto op_path = at + "/" + std::to_string(i);
          if (!op.is_string()) fail(op_path, "must be a string");
          auto name = op.get<std::string>();
          if (name != "*" && std::find(cap->operations.begin(), cap->operations.end(), name) ==
                                 cap->operations.end())
            fail(op_path, "'" + name + "' is not an operation of " + callee +
                              " (its operations: " + join(cap->operations) + ")");
          mine[caller].insert(name);
        }
      }
    }
  }

  void read_runtime_settings(const json& doc, topology& topo) const {
    read_permissions(doc, topo);
    read_section(doc, "logs", [&](settings_reader& r) { topo.logs = read_log_settings(r); });
    read_section(doc, "tracing",
                 [&](settings_reader& r) { topo.tracing = tracing::read_settings(r); });
    read_section(doc, "security",
                 [&](settings_reader& r) { topo.node_tls = read_cluster_security(r); });
    if (doc.contains("admin"))
      read_section(doc, "admin", [&](settings_reader& r) { topo.admin_auth = read_admin_auth(r); });
    read_section(doc, "http", [&](settings_reader& r) {
      topo.http =
          read_http_settings(r, [&](const std::string& name) { return declared_route(name); });
    });
    read_section(doc, "health", [&](settings_reader& r) { topo.health = read_health_settings(r); });
    read_section(doc, "cluster",
                 [&](settings_reader& r) { topo.detection = read_failure_detection(r); });
    read_section(doc, "calls", [&](settings_reader& r) {
      std::vector<std::string> names;
      for (auto& cap : known_) names.push_back(cap.name);
      topo.call_limits = read_call_settings(r, names);
    });
  }

  // Every hosted capability gets typed settings: from its entry, or its defaults.
  void read_capability_settings(const json& doc, topology& topo,
                                const std::map<std::string, std::string>& hosted_at) const {
    static const json empty = json::object();
    const json* entries = &empty;
    if (doc.contains("capabilities")) {
      entries = &doc["capabilities"];
      if (!entries->is_object()) fail("/capabilities", "must be an object keyed by capability");
      for (auto& [cap, value] : entries->items()) {
        auto path = "/capabilities/" + escape_pointer_token(cap);
        if (!known(cap))
          fail(path, "unknown capability '" + cap + "' (known: " + known_names() + ")");
        if (!value.is_object()) fail(path, "must be an object of settings");
        if (!hosted_at.count(cap)) fail(path, "capability '" + cap + "' is hosted on no node");
      }
    }
    for (auto& [cap_name, where] : hosted_at) {
      auto& cap = *known(cap_name);
      auto path = "/capabilities/" + escape_pointer_token(cap_name);
      const json& value = entries->contains(cap_name) ? (*entries)[cap_name] : empty;
      note_setting_path(path);
      try {
        settings_reader reader{value, path};
        // Every capability takes "supervision"; the rest is its own.
        auto supervision = reader.section("supervision");
        topo.supervision[cap_name] = read_supervision_settings(supervision);
        if (cap.read_settings) {
          topo.settings[cap_name] = cap.read_settings(reader);
        } else {
          topo.settings[cap_name] = std::any{};
          for (auto& key : reader.keys())
            if (key != "supervision")
              fail(path + "/" + escape_pointer_token(key),
                   "capability '" + cap_name + "' takes no settings but \"supervision\"");
        }
        reader.finish();
      } catch (const settings_error& e) {
        fail(e.path(), e.problem());
      }
    }
  }

  topology check(const std::string& text) const {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::exception& e) {  // parse_error; out_of_range for a number too large
      fail("", std::string("malformed JSON: ") + e.what());
    }
    if (!doc.is_object()) fail("", "the document must be a JSON object");
    only_keys(doc, "",
              {"name", "data_dir", "nodes", "capabilities", "http", "health", "calls", "cluster",
               "admin", "security", "permissions", "logs", "tracing"});

    topology topo;
    topo.name = string_at(doc, "name", "", "troupe");
    topo.data_dir = string_at(doc, "data_dir", "", "var");
    if (topo.data_dir.empty()) fail("/data_dir", "must not be empty");

    if (!doc.contains("nodes")) fail("/nodes", "missing: a topology needs at least one node");
    auto& nodes = doc["nodes"];
    if (!nodes.is_object() || nodes.empty())
      fail("/nodes", "must be an object with at least one node");

    std::map<std::string, std::string> hosted_at;        // capability -> path where hosted
    std::map<std::string, std::string> address_at_path;  // "host:port" -> path
    for (auto& [node_name, node_json] : nodes.items()) {
      auto path = "/nodes/" + escape_pointer_token(node_name);
      if (!valid_node_name(node_name))
        fail(path, "node name '" + node_name +
                       "' must be 1-63 characters of lowercase letters, digits, '-' or '_'");
      if (!node_json.is_object()) fail(path, "must be an object");
      only_keys(node_json, path, {"listen", "admin", "http", "capabilities", "failpoints"});
      node_spec node;
      node.name = node_name;
      node.listen = address_at(node_json, "listen", path);
      node.admin = address_at(node_json, "admin", path, "127.0.0.1");
      node.http = address_at(node_json, "http", path);
      if (node_json.contains("failpoints")) {
        auto& fp = node_json["failpoints"];
        if (!fp.is_string() || fp.get_ref<const std::string&>().size() > 4096)
          fail(path + "/failpoints",
               "must be a string such as \"NAME=error*2\" (see core/failpoint.hpp)");
        try {
          check_failpoints(fp.get<std::string>());
        } catch (const std::invalid_argument& e) {
          fail(path + "/failpoints", e.what());
        }
        node.failpoints = fp.get<std::string>();
      }
      for (auto [key, addr] : {std::pair{"listen", &node.listen}, std::pair{"admin", &node.admin},
                               std::pair{"http", &node.http}}) {
        if (!*addr || (*addr)->port == 0) continue;  // port 0: the OS picks, never clashes
        auto text = (*addr)->text();
        auto key_path = path + "/" + key;
        auto [it, fresh] = address_at_path.emplace(text, key_path);
        if (!fresh) fail(key_path, "address " + text + " is already used at " + it->second);
      }
      if (!node_json.contains("capabilities"))
        fail(path + "/capabilities", "missing: list the capabilities this node hosts");
      auto& caps = node_json["capabilities"];
      if (!caps.is_array()) fail(path + "/capabilities", "must be an array of capability names");
      for (std::size_t i = 0; i < caps.size(); ++i) {
        auto cap_path = path + "/capabilities/" + std::to_string(i);
        if (!caps[i].is_string()) fail(cap_path, "must be a capability name (string)");
        auto cap = caps[i].get<std::string>();
        if (!known(cap))
          fail(cap_path, "unknown capability '" + cap + "' (known: " + known_names() + ")");
        auto [it, fresh] = hosted_at.emplace(cap, cap_path);
        if (!fresh)
          fail(cap_path, "capability '" + cap + "' is already hosted at " + it->second +
                             " (a capability runs on exactly one node)");
        node.capabilities.push_back(cap);
      }
      topo.nodes.emplace(node_name, std::move(node));
    }

    read_capability_settings(doc, topo, hosted_at);
    read_runtime_settings(doc, topo);

    // What each hosted capability calls: its declared callees, which must be hosted, plus
    // (for the HTTP entry) every hosted capability that declares routes.
    for (auto& [node_name, node] : topo.nodes) {
      for (std::size_t i = 0; i < node.capabilities.size(); ++i) {
        auto& cap = *known(node.capabilities[i]);
        auto cap_path = "/nodes/" + node_name + "/capabilities/" + std::to_string(i);
        if (cap.http_entry && !node.http)
          fail("/nodes/" + node_name + "/http",
               "missing: node '" + node_name + "' hosts '" + cap.name +
                   "', which serves HTTP, so it needs an \"http\": \"host:port\" address");
        auto& calls = topo.calls[cap.name];
        for (auto& need : cap.calls) {
          if (!hosted_at.count(need))
            fail(cap_path,
                 "capability '" + cap.name + "' needs '" + need + "', which is hosted on no node");
          calls.push_back(need);
        }
        if (cap.http_entry) {
          std::vector<std::string> routed;
          for (auto& other : known_) {
            if (other.routes.empty() || other.name == cap.name) continue;
            routed.push_back(other.name);
            if (hosted_at.count(other.name) &&
                std::find(calls.begin(), calls.end(), other.name) == calls.end())
              calls.push_back(other.name);
          }
          if (calls.empty())
            fail(cap_path, "capability '" + cap.name +
                               "' serves the HTTP routes of other capabilities, but none that "
                               "has routes is hosted (capabilities with routes: " +
                               join(routed) + ")");
        }
        for (auto& need : calls) {
          auto host = topo.host_of(need);
          if (host == &node) continue;
          if (!host->listen)
            fail("/nodes/" + host->name + "/listen",
                 "missing: node '" + host->name + "' hosts '" + need + "', which '" + cap.name +
                     "' on node '" + node_name + "' calls, so it needs a \"listen\" address");
          if (host->listen->port == 0)
            fail("/nodes/" + host->name + "/listen",
                 "port 0 cannot be used where other nodes must connect");
        }
      }
    }
    return topo;
  }

 private:
  std::string file_;
  const std::vector<capability>& known_;
};

}  // namespace

topology parse_topology(const std::string& text, const std::string& file,
                        const std::vector<capability>& known) {
  return checker{file, known}.check(text);
}

topology load_topology(const std::string& file, const std::vector<capability>& known) {
  std::ifstream in{file, std::ios::binary};
  if (!in) throw topology_error(file, "", "cannot read the file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_topology(buf.str(), file, known);
}

std::string describe_plan(const topology& topo) {
  std::ostringstream out;
  out << "topology '" << topo.name << "': " << topo.nodes.size() << " node(s), data under "
      << topo.data_dir << "/<node>/\n";
  for (auto& [name, node] : topo.nodes) {
    out << "  node " << name << "\n";
    out << "    listen  " << (node.listen ? node.listen->text() : "-") << "\n";
    out << "    admin   " << (node.admin ? node.admin->text() : "-") << "\n";
    out << "    http    " << (node.http ? node.http->text() : "-") << "\n";
    for (auto& cap : node.capabilities) {
      out << "    hosts   " << cap;
      auto calls = topo.calls.find(cap);
      if (calls != topo.calls.end() && !calls->second.empty()) {
        out << "  (calls";
        for (auto& need : calls->second) {
          auto host = topo.host_of(need);
          out << " " << need << "@" << (host == &node ? "local" : host->name);
        }
        out << ")";
      }
      out << "\n";
    }
  }
  return out.str();
}

}  // namespace troupe
