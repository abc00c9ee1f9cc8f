// The HTTP server with handlers of the test's own, over real sockets: what never reaches the
// wire (split headers, internal details) and the connection cap.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/core/error.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/http/server.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

using namespace troupe;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// A service answering every GET with what `respond` makes of the request.
http_service service_of(std::function<http_response(const http_request&)> respond) {
  http_service s;
  s.admit = [](const request_head&) { return admission{}; };
  s.handle = [respond](http_request&& req, http_reply reply) { reply(respond(req)); };
  return s;
}

std::string where(const http_server& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

// Captures this process's stderr (where troupe logs) while it lives.
class stderr_capture {
 public:
  explicit stderr_capture(const std::string& path) : path_(path) {
    std::fflush(stderr);
    saved_ = dup(2);
    auto fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    ::close(fd);
  }
  ~stderr_capture() { restore(); }
  std::string text() {
    restore();
    std::ifstream in{path_};
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

double cpu_seconds_of_this_process() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

TEST_CASE("a header value with CR or LF never reaches the wire") {
  test::temp_dir dir;
  stderr_capture log{dir.file("stderr")};
  http_server server{{"127.0.0.1", 0},
                     service_of([](const http_request&) {
                       http_response res;
                       res.headers.emplace_back("X-Echo", "a\r\nSet-Cookie: stolen=1");
                       return res;
                     }),
                     {},
                     nullptr,
                     "test",
                     1};
  test::http_client client{where(server)};
  auto r = client.get("/anything");
  CHECK(r.status == 500);
  CHECK(r.headers.count("set-cookie") == 0);
  CHECK(r.headers.count("x-echo") == 0);
  auto error = json::parse(r.body)["error"];
  CHECK(error["code"] == "internal");
  CHECK(error["trace_id"] == r.headers.at("x-request-id"));
  server.stop();
  CHECK(log.text().find("request " + r.headers.at("x-request-id")) != std::string::npos);
}

TEST_CASE("an internal error's detail goes to the log under the request id, not to the client") {
  test::temp_dir dir;
  stderr_capture log{dir.file("stderr")};
  http_server server{{"127.0.0.1", 0},
                     service_of([](const http_request& req) {
                       return error_response(
                           make_error(errc::internal, "users store: disk /var/lib/x is full"),
                           req.id);
                     }),
                     {},
                     nullptr,
                     "test",
                     1};
  test::http_client client{where(server)};
  auto r = client.get("/x");
  CHECK(r.status == 500);
  CHECK(r.body.find("disk") == std::string::npos);
  CHECK(r.body.find("/var/lib") == std::string::npos);
  auto id = r.headers.at("x-request-id");
  CHECK(id.size() == 32);
  CHECK(json::parse(r.body)["error"]["trace_id"] == id);
  auto ok = client.get("/y");
  CHECK(ok.headers.at("x-request-id") != id);  // one id per request
  server.stop();
  auto text = log.text();
  auto line = text.find("request " + id + ": users store: disk /var/lib/x is full");
  CHECK(line != std::string::npos);
}

TEST_CASE(
    "at the connection cap the listener stops accepting, without spinning, until one closes") {
  http_limits limits;
  limits.max_connections = 3;
  http_server server{
      {"127.0.0.1", 0}, service_of([](const http_request&) { return http_response{}; }),
      limits,           nullptr,
      "test",           1};
  std::vector<std::unique_ptr<test::raw_connection>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<test::raw_connection>(where(server)));
  REQUIRE(test::eventually([&] { return server.open_connections() == 3; }, 5s, 1ms));
  // The fourth client gets through the kernel's backlog but is not accepted...
  test::raw_connection waiting{where(server)};
  waiting.send("GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
  auto cpu_before = cpu_seconds_of_this_process();
  CHECK_FALSE(waiting.readable(1s));
  CHECK(server.open_connections() == 3);
  CHECK(cpu_seconds_of_this_process() - cpu_before < 0.5);  // paused, not polling accept
  // ...until a connection closes; then it is served.
  idle.pop_back();
  auto r = waiting.read(5s);
  CHECK(r.status == 200);
}

TEST_CASE("a 204 or 304 with a body loses the body, not the server") {
  std::atomic<int> next{204};
  http_server server{{"127.0.0.1", 0},
                     service_of([&](const http_request&) {
                       http_response res;
                       res.status = next;
                       res.body = "{}";
                       return res;
                     }),
                     {},
                     nullptr,
                     "test",
                     1};
  test::http_client client{where(server)};
  auto no_content = client.get("/a");
  CHECK(no_content.status == 204);
  CHECK(no_content.body.empty());
  next = 304;
  CHECK(client.get("/b").status == 304);
  next = 200;
  CHECK(client.get("/c").body == "{}");
}
