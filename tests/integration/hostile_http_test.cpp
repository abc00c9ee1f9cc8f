// The HTTP edge tried from outside, as an attacker would: made-up methods and paths, a
// process at its file-descriptor limit, bodies the route does not want.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/auth.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/http_client.hpp"

using namespace troupe::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

long metrics_size(const std::string& http) {
  http_client client{http};
  auto r = client.get("/metrics");
  REQUIRE(r.status == 200);
  return static_cast<long>(r.body.size());
}

long rss_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Sends `count` requests on one kept-alive connection; each must get `status`.
void hostile_requests(const std::string& http, int count,
                      const std::function<std::string(int)>& make, int status) {
  raw_connection conn{http};
  for (int i = 0; i < count; ++i) {
    conn.send(make(i));
    auto r = conn.read();
    if (r.status != status) FAIL("request " << i << " got " << r.status << ": " << r.body);
  }
}

// The answer to `raw` bytes sent on a connection of their own.
http_result answer_to(const std::string& http, const std::string& raw) {
  raw_connection conn{http};
  conn.send(raw);
  return conn.read(10s);
}

}  // namespace

TEST_CASE("made-up methods and paths cannot grow /metrics") {
  temp_dir dir;
  troupe_node node({"--http", "127.0.0.1:0", "--data", dir.file("data")}, dir.path(), "dev");
  auto before = metrics_size(node.http());
  auto rss_before = rss_kib(node.process().pid());
  std::mt19937 rng{42};
  auto token = [&](int i) {
    return "M" + std::to_string(100000 + i) + std::string(20 + rng() % 40, 'X');
  };
  auto path = [&](int) { return "/x" + std::to_string(rng()) + "/" + std::to_string(rng()); };
  // 3,000 made-up methods, then 3,000 made-up paths with a real one.
  hostile_requests(
      node.http(), 3000,
      [&](int i) { return token(i) + " /api/users/x HTTP/1.1\r\nHost: t\r\n\r\n"; }, 501);
  auto after_methods = metrics_size(node.http());
  hostile_requests(
      node.http(), 3000, [&](int i) { return "GET " + path(i) + " HTTP/1.1\r\nHost: t\r\n\r\n"; },
      404);
  auto after_paths = metrics_size(node.http());
  // Another 3,000 of each change nothing but counts.
  hostile_requests(
      node.http(), 3000,
      [&](int i) { return token(i + 3000) + " /" + path(i) + " HTTP/1.1\r\nHost: t\r\n\r\n"; },
      501);
  auto after_more = metrics_size(node.http());
  WARN("/metrics: " << before << " bytes before, " << after_methods
                    << " after 3,000 made-up methods, " << after_paths
                    << " after 3,000 made-up paths, " << after_more << " after 3,000 more; RSS "
                    << rss_before << " -> " << rss_kib(node.process().pid()) << " KiB");
  // Each hostile kind adds one series (method OTHER or route "unmatched"), a few KB, once.
  CHECK(after_methods - before < 6000);
  CHECK(after_paths - after_methods < 6000);
  CHECK(std::abs(after_more - after_paths) < 200);  // digits of counters, nothing else
  http_client client{node.http()};
  auto text = client.get("/metrics").body;
  CHECK(text.find("XXXX") == std::string::npos);
  CHECK(text.find("/x") == std::string::npos);
  CHECK(text.find(R"(method="OTHER",route="unmatched",status_code="501")") != std::string::npos);
  CHECK(node.stop() == 0);
}

TEST_CASE("at the file-descriptor limit the node backs off instead of spinning, then recovers") {
  temp_dir dir;
  process_options limited;
  limited.max_open_files = 128;
  troupe_node node({"--http", "127.0.0.1:0", "--data", dir.file("data")}, dir.path(), "dev",
                   limited);
  // It knows its budget: fewer connections than descriptors, so SQLite, the database checker
  // and the middleman keep theirs.
  CHECK(node.process().err().find("API connections: the file-descriptor limit") !=
        std::string::npos);
  std::vector<std::unique_ptr<raw_connection>> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(std::make_unique<raw_connection>(node.http()));
  // The node says when it stops accepting; from then on it must stay quiet.
  REQUIRE(eventually(
      [&] { return node.process().err().find("api listener paused") != std::string::npos; }, 10s));
  auto cpu_before = node.process().cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(5s);  // the measurement window itself, not a wait for an event
  auto cpu = node.process().cpu_seconds() - cpu_before;
  auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("node CPU at the descriptor limit: " << cpu << " s over " << wall << " s");
  CHECK(cpu < 0.5);  // a busy accept loop burned ~90% of a core here
  CHECK(node.process().running());
  idle.clear();
  CHECK(eventually(
      [&] {
        try {
          http_client client{node.http()};
          return client.get("/api/users/nobody").status == 404;
        } catch (const std::exception&) {
          return false;
        }
      },
      15s));
  // Its own descriptors were never taken: the database check still runs, health is up.
  http_client client{node.http()};
  CHECK(client.get("/health").status == 200);
  CHECK(node.stop() == 0);
}

TEST_CASE("a body over the route's limit is refused from its Content-Length, before it is sent") {
  temp_dir dir;
  troupe_node node({"--http", "127.0.0.1:0", "--data", dir.file("data")}, dir.path(), "dev");
  raw_connection conn{node.http()};
  // Headers only: the body is never sent, so an answer proves nothing waited for it.
  conn.send(
      "POST /api/users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Content-Length: 100000\r\n\r\n");
  auto r = conn.read(10s);
  CHECK(r.status == 413);
  CHECK(json::parse(r.body)["error"]["code"] == "payload_too_large");
  CHECK(r.headers.at("connection") == "close");
  // A GET route takes no body at all; a body without Content-Type is 415. Small refused
  // bodies are read and dropped, so the connection stays usable.
  raw_connection conn2{node.http()};
  conn2.send("GET /api/users/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(conn2.read(10s).status == 413);
  conn2.send("POST /api/users HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
  CHECK(conn2.read(10s).status == 415);
  // Limits come before authentication; a request within them without a token is 401.
  conn2.send("GET /api/users/x HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK(conn2.read(10s).status == 401);
  conn2.send("GET /api/users/x HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + admin_token() +
             "\r\n\r\n");
  CHECK(conn2.read(10s).status == 404);
  CHECK(node.stop() == 0);
}

TEST_CASE("hostile method tokens and targets get clear refusals, never a crash") {
  temp_dir dir;
  troupe_node node({"--http", "127.0.0.1:0", "--data", dir.file("data")}, dir.path(), "dev");
  auto status_of = [&](const std::string& raw) { return answer_to(node.http(), raw).status; };
  CHECK(status_of("get /api/users/x HTTP/1.1\r\nHost: t\r\n\r\n") ==
        501);  // methods are case-sensitive
  CHECK(status_of(std::string(4000, 'Q') + " / HTTP/1.1\r\nHost: t\r\n\r\n") == 501);
  CHECK(status_of("GET http://evil/api/users/x HTTP/1.1\r\nHost: t\r\n\r\n") == 400);
  CHECK(status_of("GET /api/users/x HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'a') +
                  "\r\n\r\n") == 431);
  CHECK(status_of("GET /api/users/%zz HTTP/1.1\r\nHost: t\r\n\r\n") == 404);
  http_client client{node.http()};
  CHECK(client.get("/ready").status == 200);  // still serving
  CHECK(node.stop() == 0);
}

TEST_CASE("every answer carries the security headers and no server banner; long lines get 414") {
  temp_dir dir;
  troupe_node node({"--http", "127.0.0.1:0", "--data", dir.file("data")}, dir.path(), "dev");
  auto has_security_headers = [](const http_result& r) {
    INFO(r.status << " " << r.body);
    CHECK(r.headers.count("server") == 0);
    CHECK(r.headers.at("x-content-type-options") == "nosniff");
    CHECK(r.headers.at("x-frame-options") == "DENY");
    CHECK(r.headers.at("referrer-policy") == "no-referrer");
    CHECK(r.headers.at("content-security-policy") == "default-src 'none'; frame-ancestors 'none'");
    CHECK(r.headers.at("cross-origin-resource-policy") == "same-origin");
    CHECK(r.headers.count("strict-transport-security") == 0);  // only over TLS
  };
  http_client client{node.http()};
  auto created =
      client.post_json("/api/users", R"({"id":"ann","name":"Ann","email":"ann@example.com"})");
  CHECK(created.status == 201);
  has_security_headers(created);
  auto missing = client.get("/api/users/nobody");
  CHECK(missing.status == 404);
  has_security_headers(missing);
  auto broken = client.post_json("/api/users", "{not json");
  CHECK(broken.status == 400);
  has_security_headers(broken);
  // A target over 8 KiB, within the header limit: 414 from the head.
  auto long_target = answer_to(
      node.http(), "GET /api/users/" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK(long_target.status == 414);
  CHECK(long_target.body.find("uri_too_long") != std::string::npos);
  has_security_headers(long_target);
  // A request line that does not end within the header limit (16 KiB): 414, not 431.
  auto long_line =
      answer_to(node.http(), "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK(long_line.status == 414);
  has_security_headers(long_line);
  auto big_headers = answer_to(node.http(), "GET /api/users/x HTTP/1.1\r\nHost: t\r\nX-Big: " +
                                                std::string(20000, 'a') + "\r\n\r\n");
  CHECK(big_headers.status == 431);
  has_security_headers(big_headers);
  // A header that never ends, after a complete request line: 431, not 414.
  auto endless_header = answer_to(
      node.http(), "GET /api/users/x HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'a'));
  CHECK(endless_header.status == 431);
  CHECK(client.get("/ready").status == 200);  // still serving
  CHECK(node.stop() == 0);
}

namespace {

// Sends `chunk` every 100 ms on `slow` until the server closes it (or 10 s pass), serving a
// normal client in between; returns how long the slow one lasted and how many normal
// requests were answered meanwhile.
std::pair<std::chrono::milliseconds, int> trickle(raw_connection& slow, http_client& normal,
                                                  const std::string& chunk) {
  auto start = std::chrono::steady_clock::now();
  int served = 0;
  while (std::chrono::steady_clock::now() - start < 10s) {
    try {
      slow.send(chunk);
    } catch (const std::exception&) {
      break;  // reset: the server closed it
    }
    if (normal.get("/api/users/nobody").status == 404) ++served;
    if (slow.readable(100ms)) break;  // the close (or an answer) is there
  }
  return {std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                start),
          served};
}

}  // namespace

TEST_CASE("slow clients are closed at the header deadline and the body rate; others are served") {
  temp_dir dir;
  cluster c{
      dir, one_node_plan(), {}, {}, R"("http": {"header_timeout_ms": 600, "min_body_rate": 1000})"};
  http_client normal{c.http()};
  // Slowloris: a header that never ends, one line every 100 ms.
  raw_connection slowloris{c.http()};
  slowloris.send("GET /api/users/x HTTP/1.1\r\nHost: t\r\n");
  auto [header_lasted, served_meanwhile] = trickle(slowloris, normal, "X-Slow: 1\r\n");
  CHECK(header_lasted >= 500ms);
  CHECK(header_lasted < 2s);
  CHECK(served_meanwhile >= 3);
  CHECK_THROWS(slowloris.read(1s));  // closed, no answer
  // A slow body: 1,000 bytes announced, sent at 100 bytes/s against 1,000 required; the
  // deadline is 0.6 s + 1 s.
  raw_connection slow_post{c.http()};
  slow_post.send(
      "POST /api/users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Authorization: Bearer " +
      admin_token() + "\r\nContent-Length: 1000\r\n\r\n");
  auto [body_lasted, served_too] = trickle(slow_post, normal, std::string(10, ' '));
  CHECK(body_lasted >= 1400ms);
  CHECK(body_lasted < 3s);
  CHECK(served_too >= 5);
  // A client at a normal pace is not cut off by either limit.
  raw_connection steady{c.http()};
  steady.send("GET /api/users/nobody HTTP/1.1\r\nHost: t\r\n");
  CHECK_FALSE(steady.readable(300ms));
  steady.send("Authorization: Bearer " + admin_token() + "\r\n\r\n");
  CHECK(steady.read(5s).status == 404);
  WARN("slow header closed after "
       << header_lasted.count() << " ms, slow body after " << body_lasted.count() << " ms; "
       << served_meanwhile + served_too << " normal requests served meanwhile");
}
