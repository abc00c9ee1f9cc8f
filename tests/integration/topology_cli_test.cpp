// `troupe topology check` and `troupe run` refuse bad configuration before anything starts:
// exit status 2 and a message naming the file, the JSON path and the problem.
#include <catch2/catch.hpp>

#include <filesystem>

#include <fstream>
#include <sstream>

#include "tests/support/cluster.hpp"
#include "tests/support/process.hpp"

using namespace troupe::test;
using namespace std::chrono_literals;

namespace {

command_result run_troupe(std::vector<std::string> args) {
  args.insert(args.begin(), troupe_binary());
  return run_command(std::move(args), 30s);
}

struct bad_case {
  const char* what;
  const char* json;
  const char* path;     // must appear in the message
  const char* problem;  // must appear in the message
};

const bad_case bad_cases[] = {
    {"malformed JSON", R"({"nodes": )", "(document)", "malformed JSON"},
    {"unknown top-level key", R"({"nodez": {}})", "/nodez", "unknown key 'nodez'"},
    {"unknown node key",
     R"({"nodes": {"core": {"lisen": "127.0.0.1:1", "capabilities": ["users"]}}})",
     "/nodes/core/lisen", "unknown key 'lisen'"},
    {"unknown capability", R"({"nodes": {"core": {"capabilities": ["userz"]}}})",
     "/nodes/core/capabilities/0", "unknown capability 'userz'"},
    {"capability hosted on no node",
     R"({"nodes": {"core": {"capabilities": []}}, "capabilities": {"users": {}}})",
     "/capabilities/users", "hosted on no node"},
    {"HTTP entry with nothing to route",
     R"({"nodes": {"edge": {"http": "127.0.0.1:1", "capabilities": ["gateway"]}}})",
     "/nodes/edge/capabilities/0", "none that has routes is hosted (capabilities with routes: "},
    {"capability hosted twice",
     R"({"nodes": {"a": {"capabilities": ["users"]}, "b": {"capabilities": ["users"]}}})",
     "/nodes/b/capabilities/0", "already hosted at /nodes/a/capabilities/0"},
    {"duplicate address",
     R"({"nodes": {"a": {"listen": "127.0.0.1:4000", "capabilities": ["users"]},
                   "b": {"admin": "127.0.0.1:4000", "capabilities": []}}})",
     "/nodes/b/admin", "already used at /nodes/a/listen"},
    {"gateway node without http",
     R"({"nodes": {"edge": {"listen": "127.0.0.1:4101", "capabilities": ["gateway", "users"]}}})",
     "/nodes/edge/http", "serves HTTP"},
    {"malformed address", R"({"nodes": {"a": {"listen": "nowhere", "capabilities": ["users"]}}})",
     "/nodes/a/listen", "host:port"},
    {"setting out of range",
     R"({"nodes": {"a": {"capabilities": ["users"]}}, "capabilities": {"users": {"cache_entries": -1}}})",
     "/capabilities/users/cache_entries", "must be an integer from 0"},
    {"malformed failpoints",
     R"({"nodes": {"a": {"capabilities": ["users"], "failpoints": "users.get=explode"}}})",
     "/nodes/a/failpoints", "unknown action"},
    {"unknown setting",
     R"({"nodes": {"a": {"capabilities": ["users"]}}, "capabilities": {"users": {"cache": 5}}})",
     "/capabilities/users/cache", "unknown setting 'cache'"},
    {"CORS origin with a path",
     R"({"nodes": {"e": {"http": "127.0.0.1:1", "capabilities": ["gateway", "users"]}},
         "capabilities": {"gateway": {"cors": {"allowed_origins": ["https://shop.example/"]}}}})",
     "/capabilities/gateway/cors/allowed_origins", "no path"},
    {"CORS credentials for any origin",
     R"({"nodes": {"e": {"http": "127.0.0.1:1", "capabilities": ["gateway", "users"]}},
         "capabilities": {"gateway": {"cors": {"allowed_origins": ["*"],
                                               "allow_credentials": true}}}})",
     "/capabilities/gateway/cors/allow_credentials", "list the origins"},
    {"CORS origin null",
     R"({"nodes": {"e": {"http": "127.0.0.1:1", "capabilities": ["gateway", "users"]}},
         "capabilities": {"gateway": {"cors": {"allowed_origins": ["null"]}}}})",
     "/capabilities/gateway/cors/allowed_origins", "http:// or https://"},
    {"TLS certificate without key",
     R"({"nodes": {"e": {"http": "127.0.0.1:1", "capabilities": ["gateway", "users"]}},
         "capabilities": {"gateway": {"tls": {"certificate_file": "/etc/ssl/x.pem"}}}})",
     "/capabilities/gateway/tls/key_file", "needs its key_file"},
    {"admin tokens with a generated secret",
     R"({"nodes": {"a": {"capabilities": ["users"]}}, "admin": {"auth": {"generate_secret": true}}})",
     "/admin/auth/generate_secret", "every node needs the same key"},
    {"node TLS without its authority",
     R"({"nodes": {"a": {"capabilities": ["users"]}},
         "security": {"tls": {"certificate_file": "a.pem", "key_file": "a.key"}}})",
     "/security/tls/ca_file", "partial setting would leave peers unauthenticated"},
    {"permission for an operation that does not exist",
     R"({"nodes": {"a": {"capabilities": ["users"]}},
         "permissions": {"users": {"gateway": ["get_user", "delete_user"]}}})",
     "/permissions/users/gateway/1", "'delete_user' is not an operation of users"},
    {"TLS version too old",
     R"({"nodes": {"e": {"http": "127.0.0.1:1", "capabilities": ["gateway", "users"]}},
         "capabilities": {"gateway": {"tls": {"min_version": "1.1"}}}})",
     "/capabilities/gateway/tls/min_version", "must be \"1.2\" or \"1.3\""},
};

}  // namespace

TEST_CASE("each bad topology is refused with exit 2, the file and the JSON path") {
  temp_dir dir;
  for (auto& c : bad_cases) {
    INFO(c.what);
    dir.write("bad.json", c.json);
    auto check = run_troupe({"topology", "check", dir.file("bad.json")});
    CHECK(check.status == 2);
    CHECK(check.err.find(dir.file("bad.json")) != std::string::npos);
    CHECK(check.err.find(c.path) != std::string::npos);
    CHECK(check.err.find(c.problem) != std::string::npos);
    // `run` refuses the same file the same way, before starting anything
    auto run = run_troupe({"run", "--topology", dir.file("bad.json"), "--node", "a"});
    CHECK(run.status == 2);
    CHECK(run.err.find(c.path) != std::string::npos);
    CHECK(run.out.find("ready") == std::string::npos);
  }
}

TEST_CASE("a node name that is not in the file is refused") {
  auto r =
      run_troupe({"run", "--topology", source_dir() + "/deploy/two-nodes.json", "--node", "nope"});
  CHECK(r.status == 2);
  CHECK(r.err.find("no node named 'nope'") != std::string::npos);
  CHECK(r.err.find("edge") != std::string::npos);
}

TEST_CASE("a missing topology file and bad flags are refused with exit 2") {
  CHECK(run_troupe({"topology", "check", "/nonexistent/t.json"}).status == 2);
  auto flag = run_troupe({"--htp", "127.0.0.1:1"});
  CHECK(flag.status == 2);
  CHECK(flag.err.find("unknown option '--htp'") != std::string::npos);
  auto addr = run_troupe({"--http", "8080"});
  CHECK(addr.status == 2);
  CHECK(addr.err.find("--http") != std::string::npos);
  CHECK(run_troupe({"run", "--node", "edge"}).status == 2);
}

TEST_CASE("every command answers --help with its usage and exit 0") {
  struct asked {
    std::vector<std::string> args;
    const char* shows;   // its own usage line
    const char* absent;  // another command's, not shown
  };
  const asked cases[] = {
      {{"--help"}, "troupe run --topology", nullptr},
      {{"-h"}, "troupe token --sub", nullptr},
      {{"help"}, "troupe projections rebuild", nullptr},
      {{"run", "--help"}, "troupe run --topology FILE", "troupe token"},
      {{"token", "--help"}, "troupe token --sub ID", "troupe run"},
      {{"token", "--sub", "x", "-h"}, "troupe token --admin", "troupe projections"},
      {{"topology", "--help"}, "troupe topology check FILE", "troupe token"},
      {{"topology", "check", "--help"}, "troupe topology default", "troupe run"},
      {{"projections", "rebuild", "--help"}, "troupe projections rebuild NAME", "troupe token"},
  };
  for (auto& c : cases) {
    auto r = run_troupe(c.args);
    INFO(c.args.front() << " " << r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find(c.shows) != std::string::npos);
    if (c.absent) CHECK(r.out.find(c.absent) == std::string::npos);
    CHECK(r.err.empty());
  }
  // Without --help a missing flag is still an error, with the command's usage.
  auto missing = run_troupe({"token"});
  CHECK(missing.status == 2);
  CHECK(missing.err.find("--sub ID is required") != std::string::npos);
  CHECK(missing.err.find("troupe token --sub") != std::string::npos);
}

TEST_CASE("the shipped topologies are valid and the plan says who hosts what") {
  auto two = run_troupe({"topology", "check", source_dir() + "/deploy/two-nodes.json"});
  CHECK(two.status == 0);
  CHECK(two.out.find("node core") != std::string::npos);
  CHECK(two.out.find("gateway  (calls users@core inventory@core payments@core orders@core)") !=
        std::string::npos);
  CHECK(two.out.find("listen  127.0.0.1:4102") != std::string::npos);
  auto three = run_troupe({"topology", "check", source_dir() + "/deploy/three-nodes.json"});
  CHECK(three.status == 0);
  CHECK(three.out.find("orders  (calls users@local inventory@stock payments@stock)") !=
        std::string::npos);
  auto four = run_troupe({"topology", "check", source_dir() + "/deploy/four-nodes.json"});
  CHECK(four.status == 0);
  CHECK(four.out.find("orders  (calls users@people inventory@stock payments@stock)") !=
        std::string::npos);
  CHECK(run_troupe({"topology", "check", source_dir() + "/deploy/dev.json"}).status == 0);
}

TEST_CASE("the embedded default topology is deploy/dev.json") {
  std::ifstream in{source_dir() + "/deploy/dev.json"};
  std::stringstream file;
  file << in.rdbuf();
  auto printed = run_troupe({"topology", "default"});
  CHECK(printed.status == 0);
  CHECK(printed.out == file.str());
}

TEST_CASE("TROUPE_TOPOLOGY and TROUPE_NODE stand in for the flags") {
  temp_dir dir;
  dir.write("bad.json", R"({"nodes": {"core": {"capabilities": ["userz"]}}})");
  auto r = run_command({"/usr/bin/env", "TROUPE_TOPOLOGY=" + dir.file("bad.json"),
                        "TROUPE_NODE=core", troupe_binary(), "run"},
                       30s);
  CHECK(r.status == 2);
  CHECK(r.err.find(dir.file("bad.json")) != std::string::npos);
  CHECK(r.err.find("/nodes/core/capabilities/0") != std::string::npos);
  auto wrong_node =
      run_command({"/usr/bin/env", "TROUPE_TOPOLOGY=" + source_dir() + "/deploy/two-nodes.json",
                   "TROUPE_NODE=elsewhere", troupe_binary(), "run"},
                  30s);
  CHECK(wrong_node.status == 2);
  CHECK(wrong_node.err.find("no node named 'elsewhere'") != std::string::npos);
}

TEST_CASE("a node whose capability cannot start stops with exit 3 and says why") {
  temp_dir dir;
  // A folder where the users database should be: SQLite cannot open it.
  std::filesystem::create_directories(dir.file("data/dev/users.db"));
  auto started = std::chrono::steady_clock::now();
  auto r = run_troupe({"--http", "127.0.0.1:0", "--data", dir.file("data")});
  CHECK(r.status == 3);
  CHECK(r.err.find("capability 'users' failed") != std::string::npos);
  CHECK(r.err.find("users.db") != std::string::npos);       // the cause, with the path
  CHECK(std::chrono::steady_clock::now() - started < 15s);  // 5 restarts with backoff, then out
}

TEST_CASE("a second node on the same data directory is refused, the first keeps it") {
  temp_dir dir;
  troupe_node first({"--http", "127.0.0.1:0", "--data", dir.file("data")}, dir.path(), "first");
  auto second = run_troupe({"--http", "127.0.0.1:0", "--data", dir.file("data")});
  CHECK(second.status == 2);
  CHECK(second.err.find("is locked") != std::string::npos);
  CHECK(first.stop() == 0);
}
