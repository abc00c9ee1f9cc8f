// The troupe command line (see node.hpp).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <unistd.h>

#include "runtime/core/failpoint.hpp"
#include "runtime/http/bearer.hpp"
#include "runtime/node/data_lock.hpp"
#include "runtime/node/node.hpp"
#include "runtime/node/shutdown.hpp"

namespace troupe {

namespace {

// Each command's usage; `troupe COMMAND --help` prints its own, `troupe --help` all of them.
struct command_usage {
  const char* command;  // "" for dev mode
  const char* text;
};

constexpr command_usage usages[] = {
    {"", R"(  troupe [--http HOST:PORT] [--data DIR]
      dev mode: one node hosting every capability (embedded default topology)
)"},
    {"run", R"(  troupe run --topology FILE --node NAME [--http HOST:PORT] [--data DIR]
      run one node of a topology (TROUPE_TOPOLOGY / TROUPE_NODE may stand in for the flags)
)"},
    {"topology", R"(  troupe topology check FILE
      validate a topology and print its placement plan
  troupe topology default
      print the embedded default topology
)"},
    {"token",
     R"(  troupe token --sub ID [--scope S]... [--ttl 1h] [--topology FILE --node NAME] [--data DIR]
      print a bearer token signed with the key the node's gateway verifies with (dev mode's
      data directory without --topology); --ttl takes 90s, 15m, 1h, 7d (default 1h)
  troupe token --admin --topology FILE --sub ID [--scope S]... [--ttl 1h]
      the same for the admin listeners (the topology's "admin": {"auth": ...})
)"},
    {"projections", R"(  troupe projections rebuild NAME [--topology FILE --node NAME] [--data DIR]
      rebuild a read model from its event history while its node is stopped (dev mode's
      data directory without --topology)
)"},
};

// The usage of `command`, or of every command when it has none of its own.
std::string usage_of(const std::string& command) {
  for (auto& u : usages)
    if (*u.command && command == u.command) return std::string("usage:\n") + u.text;
  std::string all = "usage:\n";
  for (auto& u : usages) all += u.text;
  return all;
}

// Whether the command line asks for help anywhere after the command word.
bool asks_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || (i == 1 && arg == "help")) return true;
  }
  return false;
}

struct usage_error {
  std::string message;
};

struct parsed_flags {
  std::optional<std::string> topology, node, data;
  std::optional<address> http;
};

parsed_flags parse_flags(int argc, char** argv, int first, bool allow_placement) {
  parsed_flags out;
  for (int i = first; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw usage_error{flag + " needs a value"};
      return argv[++i];
    };
    if (flag == "--http") {
      auto v = value();
      out.http = parse_address(v);
      if (!out.http)
        throw usage_error{"--http: '" + v + "' is not an address of the form HOST:PORT"};
    } else if (flag == "--data") {
      out.data = value();
      if (out.data->empty()) throw usage_error{"--data: must not be empty"};
    } else if (allow_placement && flag == "--topology") {
      out.topology = value();
    } else if (allow_placement && flag == "--node") {
      out.node = value();
    } else {
      throw usage_error{"unknown option '" + flag + "'"};
    }
  }
  return out;
}

// The binary's own list must be coherent before any topology is read: unique names, error
// codes that are well formed and defined once, and routes that do not collide (a router
// over all of them is built once, then thrown away).
void check_capabilities(const std::vector<capability>& known) {
  std::vector<route> all;
  for (std::size_t i = 0; i < known.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      if (known[i].name == known[j].name)
        throw std::logic_error("capability '" + known[i].name + "' is listed twice");
    all.insert(all.end(), known[i].routes.begin(), known[i].routes.end());
    register_error_codes(known[i].errors);
  }
  router check{std::move(all)};
}

// A progress bar on a terminal, a line every 10% otherwise.
void show_progress(const std::string& name, std::int64_t done, std::int64_t total, bool tty) {
  static int last_decile = -1;
  int percent = total > 0 ? static_cast<int>(done * 100 / total) : 100;
  if (tty) {
    constexpr int width = 30;
    std::string bar(static_cast<std::size_t>(percent * width / 100), '#');
    bar.resize(width, ' ');
    std::fprintf(stderr, "\rrebuilding %s [%s] %3d%% %lld/%lld events", name.c_str(), bar.c_str(),
                 percent, static_cast<long long>(done), static_cast<long long>(total));
  } else if (percent / 10 != last_decile) {
    last_decile = percent / 10;
    std::fprintf(stderr, "rebuilding %s: %d%% (%lld/%lld events)\n", name.c_str(), percent,
                 static_cast<long long>(done), static_cast<long long>(total));
  }
  std::fflush(stderr);
}

int rebuild_projection(int argc, char** argv, const std::vector<capability>& known,
                       const std::string& default_topology_json) {
  if (argc < 4) throw usage_error{"expected: troupe projections rebuild NAME [options]"};
  std::string name = argv[3];
  auto flags = parse_flags(argc, argv, 4, true);
  const capability* owner = nullptr;
  const projection* target = nullptr;
  std::string names;
  for (auto& cap : known)
    for (auto& p : cap.projections) {
      names += (names.empty() ? "" : ", ") + p.name;
      if (p.name == name) {
        owner = &cap;
        target = &p;
      }
    }
  if (!target)
    throw usage_error{"projections: no projection named '" + name +
                      "' (known: " + (names.empty() ? "none" : names) + ")"};
  auto topo = flags.topology ? load_topology(*flags.topology, known)
                             : parse_topology(default_topology_json, "(embedded default)", known);
  auto host = topo.host_of(owner->name);
  if (!host) throw usage_error{"projections: no node of the topology hosts '" + owner->name + "'"};
  auto node = flags.node.value_or(host->name);
  if (node != host->name)
    throw usage_error{"projections: '" + owner->name + "' runs on node '" + host->name +
                      "', not '" + node + "'"};
  auto node_dir = flags.data.value_or(topo.data_dir) + "/" + node;
  auto database = node_dir + "/" + owner->name + ".db";
  if (!std::filesystem::exists(database))
    throw std::runtime_error("no database at " + database + ": nothing to rebuild from");
  data_lock lock{node_dir};  // the node must be stopped
  bool tty = ::isatty(2) == 1;
  auto started = std::chrono::steady_clock::now();
  auto applied = target->rebuild(database, [&](std::int64_t done, std::int64_t total) {
    show_progress(name, done, total, tty);
  });
  if (tty) std::fprintf(stderr, "\n");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  std::printf("rebuilt %s from %s: %lld events applied in %lld ms\n", name.c_str(),
              database.c_str(), static_cast<long long>(applied), static_cast<long long>(ms));
  return 0;
}

int mint(int argc, char** argv, const std::vector<capability>& known,
         const std::string& default_topology_json) {
  security::principal who;
  std::chrono::seconds ttl{3600};
  bool for_admin = false;
  std::vector<char*> rest{argv[0], argv[1]};
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw usage_error{flag + " needs a value"};
      return argv[++i];
    };
    if (flag == "--sub") {
      who.subject = value();
      if (who.subject.empty() || who.subject.size() > 256)
        throw usage_error{"--sub: must be 1 to 256 bytes"};
    } else if (flag == "--scope") {
      auto scope = value();
      if (scope.empty() || scope.size() > 128 ||
          scope.find_first_of(" \t\r\n\"\\") != std::string::npos)
        throw usage_error{"--scope: '" + scope +
                          "' must be 1 to 128 bytes without spaces, quotes or backslashes"};
      if (who.scopes.size() >= 64) throw usage_error{"--scope: at most 64 scopes"};
      who.scopes.push_back(scope);
    } else if (flag == "--admin") {
      for_admin = true;
    } else if (flag == "--ttl") {
      auto text = value();
      try {
        ttl = security::parse_duration(text);
      } catch (const std::invalid_argument& e) {
        throw usage_error{std::string("--ttl: ") + e.what()};
      }
      if (ttl < std::chrono::seconds{1} || ttl > std::chrono::hours{24 * 3650})
        throw usage_error{"--ttl: must be from 1 second to 10 years"};
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (who.subject.empty()) throw usage_error{"token: --sub ID is required"};
  auto flags = parse_flags(static_cast<int>(rest.size()), rest.data(), 2, true);
  auto topo = flags.topology ? load_topology(*flags.topology, known)
                             : parse_topology(default_topology_json, "(embedded default)", known);
  // `verifier` names who verifies with the key, for the message when it is a public key.
  auto mint_with = [&](const security::auth_config& config, const std::string& key_dir,
                       const std::string& verifier) {
    auto key = security::load_key(config, key_dir);
    if (key.settings.secret.empty())
      throw std::runtime_error(verifier + " verifies " + key.settings.algorithms.front() +
                               " tokens with a public key: mint them where the private key is");
    // The same checks as the node: a key it would refuse mints nothing.
    security::token_verifier check{key.settings};
    std::cout << security::mint_token(check.settings(), who, unix_seconds(), ttl) << "\n";
    return 0;
  };
  if (for_admin) {
    if (!topo.admin_auth)
      throw usage_error{"token --admin: the topology has no \"admin\": {\"auth\": ...}"};
    return mint_with(*topo.admin_auth, flags.data.value_or(topo.data_dir), "the admin listener");
  }
  // The node whose gateway the token is for: --node, or the only node with an HTTP entry.
  const capability* entry = nullptr;
  std::string node_name;
  for (auto& [name, n] : topo.nodes)
    for (auto& cap_name : n.capabilities)
      for (auto& cap : known)
        if (cap.name == cap_name && cap.http_entry && (!flags.node || *flags.node == name)) {
          if (entry && node_name != name)
            throw usage_error{"token: nodes '" + node_name + "' and '" + name +
                              "' both verify tokens: say which with --node"};
          entry = &cap;
          node_name = name;
        }
  if (!entry)
    throw usage_error{flags.node ? "token: node '" + *flags.node + "' verifies no tokens"
                                 : std::string("token: no node of the topology verifies tokens")};
  return mint_with(entry->http_entry->listener_of(topo.settings.at(entry->name))->auth,
                   flags.data.value_or(topo.data_dir) + "/" + node_name,
                   "node '" + node_name + "'");
}

}  // namespace

int troupe_main(int argc, char** argv, const std::vector<capability>& known,
                const std::string& default_topology_json) {
  std::string command = argc > 1 ? argv[1] : "";
  try {
    check_capabilities(known);
    configure_failpoints_from_env();
  } catch (const std::exception& e) {
    std::cerr << "troupe: " << e.what() << "\n";
    return 2;
  }
  try {
    if (asks_help(argc, argv)) {
      std::cout << usage_of(command);
      return 0;
    }
    if (command == "topology") {
      std::string sub = argc > 2 ? argv[2] : "";
      if (sub == "default" && argc == 3) {
        std::cout << default_topology_json;
        return 0;
      }
      if (sub != "check" || argc != 4) throw usage_error{"expected: troupe topology check FILE"};
      auto topo = load_topology(argv[3], known);
      std::cout << argv[3] << ": valid\n" << describe_plan(topo);
      return 0;
    }
    if (command == "token") return mint(argc, argv, known, default_topology_json);
    if (command == "projections") {
      std::string sub = argc > 2 ? argv[2] : "";
      if (sub != "rebuild") throw usage_error{"expected: troupe projections rebuild NAME"};
      return rebuild_projection(argc, argv, known, default_topology_json);
    }
    node_options opt;
    if (command == "run") {
      auto flags = parse_flags(argc, argv, 2, true);
      if (!flags.topology)
        if (auto env = std::getenv("TROUPE_TOPOLOGY"); env && *env) flags.topology = env;
      if (!flags.node)
        if (auto env = std::getenv("TROUPE_NODE"); env && *env) flags.node = env;
      if (!flags.topology)
        throw usage_error{"run: --topology FILE is required (or TROUPE_TOPOLOGY)"};
      if (!flags.node) throw usage_error{"run: --node NAME is required (or TROUPE_NODE)"};
      opt.topo = load_topology(*flags.topology, known);
      opt.topology_file = *flags.topology;
      if (!opt.topo.nodes.count(*flags.node)) {
        std::string names;
        for (auto& [name, n] : opt.topo.nodes) names += (names.empty() ? "" : ", ") + name;
        throw topology_error(*flags.topology, "/nodes",
                             "no node named '" + *flags.node + "' (nodes: " + names + ")");
      }
      opt.node = *flags.node;
      opt.http_override = flags.http;
      opt.data_override = flags.data;
    } else {
      auto flags = parse_flags(argc, argv, 1, false);
      opt.topo = parse_topology(default_topology_json, "(embedded default)", known);
      opt.topology_file = "embedded default";
      opt.node = opt.topo.nodes.begin()->first;
      opt.http_override = flags.http;
      opt.data_override = flags.data;
    }
    block_stop_signals();
    return run_node(opt, known);
  } catch (const usage_error& e) {
    std::cerr << "troupe: " << e.message << "\n" << usage_of(command);
    return 2;
  } catch (const topology_error& e) {
    std::cerr << "troupe: invalid topology: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "troupe: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace troupe
