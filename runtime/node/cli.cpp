// The troupe command line (see node.hpp).
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "runtime/core/failpoint.hpp"
#include "runtime/node/node.hpp"
#include "runtime/node/shutdown.hpp"

namespace troupe {

namespace {

constexpr const char* usage = R"(usage:
  troupe [--http HOST:PORT] [--data DIR]
      dev mode: one node hosting every capability (embedded default topology)
  troupe run --topology FILE --node NAME [--http HOST:PORT] [--data DIR]
      run one node of a topology (TROUPE_TOPOLOGY / TROUPE_NODE may stand in for the flags)
  troupe topology check FILE
      validate a topology and print its placement plan
  troupe topology default
      print the embedded default topology
)";

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

// The binary's own list must be coherent before any topology is read: unique names, and
// routes that do not collide (a router over all of them is built once, then thrown away).
void check_capabilities(const std::vector<capability>& known) {
  std::vector<route> all;
  for (std::size_t i = 0; i < known.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      if (known[i].name == known[j].name)
        throw std::logic_error("capability '" + known[i].name + "' is listed twice");
    all.insert(all.end(), known[i].routes.begin(), known[i].routes.end());
  }
  router check{std::move(all)};
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
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << usage;
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
    std::cerr << "troupe: " << e.message << "\n" << usage;
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
