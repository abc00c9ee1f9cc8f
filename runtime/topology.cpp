#include "runtime/topology.hpp"

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

std::optional<address> parse_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  auto port_text = text.substr(colon + 1);
  if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), ::isdigit))
    return std::nullopt;
  auto port = std::stoul(port_text);
  if (port > 65535) return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.find_first_of(" /\t") != std::string::npos) return std::nullopt;
  return address{host, static_cast<std::uint16_t>(port)};
}

namespace {

std::string escape_pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

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
  checker(std::string file, const std::vector<capability_traits>& known)
      : file_(std::move(file)), known_(known) {}

  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    throw topology_error(file_, path, problem);
  }

  void only_keys(const json& obj, const std::string& path, std::set<std::string> allowed) const {
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

  std::optional<address> address_at(const json& obj, const std::string& key,
                                    const std::string& path) const {
    if (!obj.contains(key)) return std::nullopt;
    auto& value = obj[key];
    if (!value.is_string()) fail(path + "/" + key, "must be a string \"host:port\"");
    auto addr = parse_address(value.get<std::string>());
    if (!addr)
      fail(path + "/" + key,
           "'" + value.get<std::string>() + "' is not an address of the form host:port");
    return addr;
  }

  const capability_traits* known(const std::string& name) const {
    for (auto& cap : known_)
      if (cap.name == name) return &cap;
    return nullptr;
  }

  std::string known_names() const {
    std::vector<std::string> names;
    for (auto& cap : known_) names.push_back(cap.name);
    return join(names);
  }

  topology check(const std::string& text) const {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::parse_error& e) {
      fail("", std::string("malformed JSON: ") + e.what());
    }
    if (!doc.is_object()) fail("", "the document must be a JSON object");
    only_keys(doc, "", {"name", "data_dir", "nodes", "capabilities"});

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
      only_keys(node_json, path, {"listen", "admin", "http", "capabilities"});
      node_spec node;
      node.name = node_name;
      node.listen = address_at(node_json, "listen", path);
      node.admin = address_at(node_json, "admin", path);
      node.http = address_at(node_json, "http", path);
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

    if (doc.contains("capabilities")) {
      auto& settings = doc["capabilities"];
      if (!settings.is_object()) fail("/capabilities", "must be an object keyed by capability");
      for (auto& [cap, value] : settings.items()) {
        auto path = "/capabilities/" + escape_pointer_token(cap);
        if (!known(cap))
          fail(path, "unknown capability '" + cap + "' (known: " + known_names() + ")");
        if (!value.is_object()) fail(path, "must be an object of settings");
        if (!hosted_at.count(cap)) fail(path, "capability '" + cap + "' is hosted on no node");
        auto check = known(cap)->check_settings;
        if (!check && !value.empty())
          fail(path + "/" + escape_pointer_token(value.begin().key()),
               "capability '" + cap + "' takes no settings");
        if (check)
          if (auto problem = check(value.dump()))
            fail(problem->key.empty() ? path : path + "/" + escape_pointer_token(problem->key),
                 problem->problem);
        topo.settings[cap] = value.dump();
      }
    }

    // Every capability a hosted capability calls must be hosted, and reachable if remote.
    for (auto& [node_name, node] : topo.nodes) {
      for (std::size_t i = 0; i < node.capabilities.size(); ++i) {
        auto& cap = *known(node.capabilities[i]);
        auto cap_path = "/nodes/" + node_name + "/capabilities/" + std::to_string(i);
        if (cap.serves_http && !node.http)
          fail("/nodes/" + node_name + "/http",
               "missing: node '" + node_name + "' hosts '" + cap.name +
                   "', which serves HTTP, so it needs an \"http\": \"host:port\" address");
        for (auto& need : cap.needs) {
          auto host = topo.host_of(need);
          if (!host)
            fail(cap_path,
                 "capability '" + cap.name + "' needs '" + need + "', which is hosted on no node");
          if (host != &node && !host->listen)
            fail("/nodes/" + host->name + "/listen",
                 "missing: node '" + host->name + "' hosts '" + need + "', which '" + cap.name +
                     "' on node '" + node_name + "' calls, so it needs a \"listen\" address");
          if (host != &node && host->listen->port == 0)
            fail("/nodes/" + host->name + "/listen",
                 "port 0 cannot be used where other nodes must connect");
        }
      }
    }
    return topo;
  }

 private:
  std::string file_;
  const std::vector<capability_traits>& known_;
};

}  // namespace

topology parse_topology(const std::string& text, const std::string& file,
                        const std::vector<capability_traits>& known) {
  return checker{file, known}.check(text);
}

topology load_topology(const std::string& file, const std::vector<capability_traits>& known) {
  std::ifstream in{file, std::ios::binary};
  if (!in) throw topology_error(file, "", "cannot read the file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_topology(buf.str(), file, known);
}

std::string describe_plan(const topology& topo, const std::vector<capability_traits>& known) {
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
      for (auto& k : known)
        if (k.name == cap && !k.needs.empty()) {
          out << "  (calls";
          for (auto& need : k.needs) {
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
