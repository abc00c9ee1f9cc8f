// The topology file: which node hosts which capability and where nodes listen.
// Parsing validates everything before anything starts; errors name file, JSON path, problem.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/settings.hpp"

namespace troupe {

// What the topology checker needs to know about a capability the binary can host.
struct capability_traits {
  std::string name;
  std::vector<std::string> needs;  // capabilities it calls
  bool serves_http = false;        // its node needs an "http" address (the gateway)
  // Checks the capability's settings object (JSON text); empty: it takes none.
  std::function<std::optional<settings_problem>(const std::string&)> check_settings = {};
};

struct address {
  std::string host;
  std::uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

struct node_spec {
  std::string name;
  std::optional<address> listen;  // node-to-node (CAF middleman)
  std::optional<address> admin;   // /health, /ready, /metrics
  std::optional<address> http;    // API listener (nodes hosting an HTTP-serving capability)
  std::vector<std::string> capabilities;
};

struct topology {
  std::string name;
  std::string data_dir;
  std::map<std::string, node_spec> nodes;
  std::map<std::string, std::string> settings;  // capability -> its settings as JSON text

  // The node hosting `capability`, or nullptr.
  const node_spec* host_of(const std::string& capability) const;
};

class topology_error : public std::runtime_error {
 public:
  topology_error(std::string file, std::string path, std::string problem);
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_, path_, problem_;
};

// Parses and validates; throws topology_error. `file` only labels messages.
topology parse_topology(const std::string& text, const std::string& file,
                        const std::vector<capability_traits>& known);

// Reads `file` and parses it.
topology load_topology(const std::string& file, const std::vector<capability_traits>& known);

// Parses "host:port" (port 0..65535); nullopt when malformed.
std::optional<address> parse_address(const std::string& text);

// The placement plan as people read it (for `troupe topology check`).
std::string describe_plan(const topology& topo, const std::vector<capability_traits>& known);

}  // namespace troupe
