// HTTPS at the gateway, from outside: a real TLS client that checks the certificate against
// the test authority (deploy/make-test-ca.sh), HSTS on every answer, plain HTTP and old TLS
// refused, and certificates or keys the node cannot use refused before it starts.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <chrono>

#include <nlohmann/json.hpp>

#include "tests/support/cluster.hpp"
#include "tests/support/https_client.hpp"

using namespace troupe::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

json tls_of(const temp_dir& dir, const std::string& name, json extra = json::object()) {
  json tls = {{"certificate_file", dir.file(name + ".pem")}, {"key_file", dir.file(name + ".key")}};
  tls.update(extra);
  return tls;
}

std::string gateway_settings(const json& tls) {
  return "\"gateway\": " + json{{"tls", tls}}.dump();
}

// Starts the one-node topology with `tls` and returns how the start ended.
command_result start_with(const temp_dir& dir, const json& tls, std::vector<std::string> env = {}) {
  dir.write("bad.json", topology_json(dir, one_node_plan(), {}, gateway_settings(tls)));
  std::vector<std::string> args{"/usr/bin/env"};
  args.insert(args.end(), env.begin(), env.end());
  args.insert(args.end(),
              {troupe_binary(), "run", "--topology", dir.file("bad.json"), "--node", "dev"});
  return run_command(args, 30s);
}

}  // namespace

TEST_CASE("the gateway speaks HTTPS with its certificate, and every answer carries HSTS") {
  temp_dir dir;
  make_test_ca(dir, {"localhost"});
  cluster c{dir, one_node_plan(), gateway_settings(tls_of(dir, "localhost"))};
  https_options careful{dir.file("ca.pem")};

  auto stats = https_request(c.http(), careful, "GET", "/api/orders/stats");
  INFO(stats.body);
  CHECK(stats.status == 200);
  CHECK(stats.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains");
  CHECK(stats.headers["x-content-type-options"] == "nosniff");
  // Refusals too: a missing token, a missing object, a health probe.
  auto anonymous =
      https_request(c.http(), careful, "GET", "/api/orders/stats", {}, {{"Authorization", ""}});
  CHECK(anonymous.status == 401);
  CHECK(anonymous.headers.count("strict-transport-security") == 1);
  auto missing = https_request(c.http(), careful, "GET", "/api/users/nobody");
  CHECK(missing.status == 404);
  CHECK(missing.headers.count("strict-transport-security") == 1);
  auto health = https_request(c.http(), careful, "GET", "/health");
  CHECK(health.status == 200);
  CHECK(health.headers.count("strict-transport-security") == 1);
  // A TLS 1.2 client is served (the default floor).
  https_options old = careful;
  old.max_tls_1_2 = true;
  CHECK(https_request(c.http(), old, "GET", "/health").status == 200);

  // Plain HTTP on the TLS port gets no HTTP answer: the handshake fails and it is closed.
  raw_connection plain{c.http()};
  plain.send("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK_THROWS(plain.read(5s));
  // The node still serves afterwards.
  CHECK(https_request(c.http(), careful, "GET", "/health").status == 200);
}

TEST_CASE("min_version 1.3 refuses a TLS 1.2 client; hsts_max_age_s 0 sends no HSTS") {
  temp_dir dir;
  make_test_ca(dir, {"localhost"});
  cluster c{
      dir,
      one_node_plan(),
      gateway_settings(tls_of(dir, "localhost", {{"min_version", "1.3"}, {"hsts_max_age_s", 0}})),
      {},
      R"("http": {"header_timeout_ms": 1000})"};
  https_options careful{dir.file("ca.pem")};
  auto health = https_request(c.http(), careful, "GET", "/health");
  CHECK(health.status == 200);
  CHECK(health.headers.count("strict-transport-security") == 0);
  https_options old = careful;
  old.max_tls_1_2 = true;
  CHECK_THROWS_WITH(https_request(c.http(), old, "GET", "/health"),
                    Catch::Contains("handshake failed"));
  // A client that starts a handshake and stalls is closed at the header deadline (1 s here).
  raw_connection stalled{c.http()};
  stalled.send(std::string("\x16\x03\x01", 3));
  auto since = std::chrono::steady_clock::now();
  CHECK(stalled.readable(10s));
  CHECK(std::chrono::steady_clock::now() - since < 5s);
  CHECK(https_request(c.http(), careful, "GET", "/health").status == 200);
}

TEST_CASE("a certificate or key the node cannot use stops it at start, naming the problem") {
  temp_dir dir;
  make_test_ca(dir, {"localhost", "other"});

  auto missing = start_with(dir, tls_of(dir, "absent"));
  CHECK(missing.status == 2);
  CHECK(missing.err.find("cannot serve HTTPS: tls.certificate_file") != std::string::npos);
  CHECK(missing.err.find("No such file") != std::string::npos);

  // A private key others may read.
  ::chmod(dir.file("other.key").c_str(), 0644);
  auto readable = start_with(dir, tls_of(dir, "other"));
  CHECK(readable.status == 2);
  CHECK(readable.err.find("chmod 600") != std::string::npos);
  ::chmod(dir.file("other.key").c_str(), 0600);

  // Another certificate's key.
  json mismatched = {{"certificate_file", dir.file("localhost.pem")},
                     {"key_file", dir.file("other.key")}};
  auto wrong_key = start_with(dir, mismatched);
  CHECK(wrong_key.status == 2);
  CHECK(wrong_key.err.find("is not the key of the certificate") != std::string::npos);

  // Not a certificate at all.
  dir.write("junk.pem", "not a certificate\n");
  json junk = {{"certificate_file", dir.file("junk.pem")}, {"key_file", dir.file("localhost.key")}};
  auto not_pem = start_with(dir, junk);
  CHECK(not_pem.status == 2);
  CHECK(not_pem.err.find("is not a PEM certificate chain") != std::string::npos);

  // An encrypted key: without its passphrase, with a wrong one (which must not hang, as
  // OpenSSL's own prompt would), with the right one.
  auto encrypted =
      run_command({"/usr/bin/openssl", "pkey", "-in", dir.file("localhost.key"), "-aes256",
                   "-passout", "pass:right horse", "-out", dir.file("encrypted.key")},
                  30s);
  REQUIRE(encrypted.status == 0);
  ::chmod(dir.file("encrypted.key").c_str(), 0600);
  json locked = {{"certificate_file", dir.file("localhost.pem")},
                 {"key_file", dir.file("encrypted.key")}};
  auto no_passphrase = start_with(dir, locked);
  CHECK(no_passphrase.status == 2);
  CHECK(no_passphrase.err.find("tls.key_passphrase_env") != std::string::npos);
  locked["key_passphrase_env"] = "TEST_KEY_PASSPHRASE";
  auto unset = start_with(dir, locked);
  CHECK(unset.status == 2);
  CHECK(unset.err.find("TEST_KEY_PASSPHRASE is not set") != std::string::npos);
  auto wrong = start_with(dir, locked, {"TEST_KEY_PASSPHRASE=wrong horse"});
  CHECK(wrong.status == 2);
  CHECK(wrong.err.find("with the passphrase from TEST_KEY_PASSPHRASE") != std::string::npos);

  process_options right;
  right.env.push_back("TEST_KEY_PASSPHRASE=right horse");
  cluster c{dir, one_node_plan(), gateway_settings(locked), {{"dev", right}}};
  https_options careful{dir.file("ca.pem")};
  CHECK(https_request(c.http(), careful, "GET", "/health").status == 200);
}
