#include "tests/support/cluster.hpp"

#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"

namespace troupe::test {

troupe_node::troupe_node(std::vector<std::string> args, const std::string& workdir,
                         const std::string& label, process_options options,
                         std::vector<std::string> wrapper) {
  args.insert(args.begin(), troupe_binary());
  args.insert(args.begin(), wrapper.begin(), wrapper.end());
  proc_ = std::make_unique<child_process>(std::move(args), workdir, workdir + "/" + label,
                                          std::move(options));
  ready_line_ = proc_->wait_for_line("troupe: ready", std::chrono::seconds{60});
  http_ = field_of(ready_line_, "http");
  admin_ = field_of(ready_line_, "admin");
}

void troupe_node::kill_hard() {
  proc_->signal(SIGKILL);
  proc_->wait(std::chrono::seconds{10});
}

int troupe_node::stop() {
  proc_->signal(SIGTERM);
  return proc_->wait(std::chrono::seconds{30});
}

std::vector<node_plan> plan_of(const std::string& deploy_file) {
  auto path = source_dir() + "/deploy/" + deploy_file;
  std::ifstream in{path};
  if (!in) throw std::runtime_error("cannot read " + path);
  auto topology = nlohmann::ordered_json::parse(in);
  std::vector<node_plan> http_nodes, others;
  for (auto& [name, node] : topology.at("nodes").items()) {
    node_plan plan;
    plan.name = name;
    plan.capabilities = node.at("capabilities").get<std::vector<std::string>>();
    plan.http = node.contains("http");
    plan.listen = node.contains("listen");
    (plan.http ? http_nodes : others).push_back(std::move(plan));
  }
  http_nodes.insert(http_nodes.end(), others.begin(), others.end());
  return http_nodes;
}

std::vector<node_plan> two_node_plan() {
  return plan_of("two-nodes.json");
}

std::string topology_json(const temp_dir& dir, const std::vector<node_plan>& nodes,
                          const std::map<std::string, std::uint16_t>& listen,
                          const std::string& settings, const std::string& runtime) {
  std::string text;
  for (auto& n : nodes) {
    std::string caps;
    for (auto& c : n.capabilities) caps += (caps.empty() ? "\"" : ", \"") + c + "\"";
    text +=
        (text.empty() ? "" : ",\n") + std::string("    \"") + n.name +
        "\": { \"admin\": \"127.0.0.1:0\", " + (n.http ? "\"http\": \"127.0.0.1:0\", " : "") +
        (n.listen ? "\"listen\": \"127.0.0.1:" + std::to_string(listen.at(n.name)) + "\", " : "") +
        (n.failpoints.empty() ? "" : "\"failpoints\": \"" + n.failpoints + "\", ") +
        "\"capabilities\": [" + caps + "] }";
  }
  // Tests send far more than the default 100 requests per 15 minutes from one address: rate
  // limits are off unless a test sets its own.
  auto capabilities = nlohmann::json::parse("{" + settings + "}");
  auto& gateway = capabilities["gateway"];
  if (!gateway.contains("rate_limit"))
    gateway["rate_limit"] = {{"per_client", {{"requests", 0}}}, {"per_subject", {{"requests", 0}}}};
  return "{\n  \"name\": \"shop-test\",\n  \"data_dir\": \"" + dir.file("var") +
         "\",\n  \"nodes\": {\n" + text + "\n  },\n  \"capabilities\": " + capabilities.dump() +
         (runtime.empty() ? "" : ",\n  " + runtime) + "\n}\n";
}

std::string two_node_topology(const temp_dir& dir, std::uint16_t core_listen,
                              const std::string& settings) {
  return topology_json(dir, two_node_plan(), {{"core", core_listen}}, settings);
}

std::vector<node_plan> three_node_plan() {
  return plan_of("three-nodes.json");
}

std::vector<node_plan> one_node_plan() {
  return plan_of("dev.json");
}

cluster::cluster(const temp_dir& dir, std::vector<node_plan> nodes, std::string settings,
                 std::map<std::string, process_options> options, std::string runtime)
    : dir_(dir),
      nodes_(std::move(nodes)),
      settings_(std::move(settings)),
      topology_(dir.file("topology.json")),
      runtime_(std::move(runtime)),
      options_(std::move(options)) {
  for (auto& n : nodes_)
    if (n.listen) listen_[n.name] = free_port();
  write_topology();
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) start(it->name);
}

void cluster::write_topology() {
  dir_.write("topology.json", topology_json(dir_, nodes_, listen_, settings_, runtime_));
}

std::string cluster::http() const {
  for (auto& n : nodes_)
    if (n.http) return running_.at(n.name)->http();
  throw std::logic_error("no node of this cluster serves HTTP");
}

void cluster::kill(const std::string& name) {
  running_.at(name)->kill_hard();
  running_.erase(name);
}

int cluster::stop(const std::string& name) {
  auto status = running_.at(name)->stop();
  running_.erase(name);
  return status;
}

std::string cluster::stderr_of(const std::string& name) const {
  std::ifstream in{dir_.file(name + "-" + std::to_string(starts_.at(name)) + ".err")};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int cluster::wait_exit(const std::string& name, std::chrono::milliseconds deadline) {
  auto status = running_.at(name)->process().wait(deadline);
  running_.erase(name);
  return status;
}

void cluster::start(const std::string& name, std::optional<process_options> options) {
  if (options) options_[name] = *options;
  for (int attempt = 0;; ++attempt) {
    try {
      running_[name] = std::make_unique<troupe_node>(
          std::vector<std::string>{"run", "--topology", topology_, "--node", name}, dir_.path(),
          name + "-" + std::to_string(++starts_[name]), options_[name]);
      return;
    } catch (const std::runtime_error& e) {
      // Only a lost race for the listen port is worth another port (and a new topology).
      if (attempt == 4 || !listen_.count(name) ||
          std::string(e.what()).find("cannot listen") == std::string::npos)
        throw;
      listen_[name] = free_port();
      write_topology();
    }
  }
}

std::unique_ptr<child_process> cluster::launch(const std::string& name, process_options options) {
  return std::make_unique<child_process>(
      std::vector<std::string>{troupe_binary(), "run", "--topology", topology_, "--node", name},
      dir_.path(), dir_.path() + "/" + name + "-" + std::to_string(++starts_[name]),
      std::move(options));
}

void cluster::stop_all() {
  for (auto& n : nodes_)
    if (running_.count(n.name)) stop(n.name);
}

int gateway_calls_in_flight(const std::string& admin) {
  http_client client{admin};
  auto health = nlohmann::json::parse(client.get("/health").body, nullptr, false);
  if (!health.is_object() || !health.contains("checks")) return -1;
  for (auto& check : health["checks"])
    if (check["name"] == "gateway") {
      auto detail = check["detail"].get<std::string>();
      auto space = detail.find(' ');
      if (detail.find("calls in flight") == std::string::npos) return -1;
      return std::stoi(detail.substr(0, space));
    }
  return -1;
}

double metric_value(const std::string& admin, const std::string& series) {
  http_client client{admin};
  auto text = client.get("/metrics").body;
  for (std::size_t at = text.find(series + " "); at != std::string::npos;
       at = text.find(series + " ", at + 1))
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
  return -1;
}

}  // namespace troupe::test
