// Baselines for the HTTP benchmark: servers that answer GET /api/users/{id} with the same
// JSON troupe returns, without any actor in between.
//   --mode bare     a minimal Beast async server of its own (the HTTP limit of this machine)
//   --mode runtime  troupe's own HTTP server with a handler that answers at once (isolates
//                   the cost of the actor hop from the cost of the server plumbing)
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/http/server.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

const std::string body =
    R"({"created_at":"2026-11-26T15:12:06.033Z","email":"bench@example.com","id":"bench","name":"Bench"})";

class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(tcp::socket&& s) : stream_(std::move(s)) {}
  void read() {
    req_ = {};
    stream_.expires_after(std::chrono::seconds{30});
    http::async_read(stream_, buffer_, req_,
                     beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

 private:
  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return;
    res_ = {};
    res_.version(req_.version());
    res_.result(http::status::ok);
    res_.set(http::field::server, "troupe");
    res_.set(http::field::content_type, "application/json");
    res_.keep_alive(req_.keep_alive());
    res_.body() = body;
    res_.prepare_payload();
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&session::on_write, shared_from_this()));
  }
  void on_write(beast::error_code ec, std::size_t) {
    if (ec || !res_.keep_alive()) return;
    read();
  }
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void accept(net::io_context& ioc, tcp::acceptor& acceptor) {
  acceptor.async_accept(net::make_strand(ioc), [&](beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<session>(std::move(s))->read();
    }
    accept(ioc, acceptor);
  });
}

int threads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency() / 2));
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 2 && std::strcmp(argv[1], "--mode") == 0 ? argv[2] : "bare";
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  if (mode == "runtime") {
    troupe::http_service service;
    service.admit = [](const troupe::request_head&) {
      troupe::admission a;
      a.route_label = "/api/users/{id}";
      return a;
    };
    service.handle = [](troupe::http_request&&, troupe::http_reply reply) {
      troupe::http_response res;
      res.body = body;
      reply(std::move(res));
    };
    troupe::http_server server{{"127.0.0.1", 0}, service, {}, nullptr, "api", threads()};
    std::printf("ready port=%u\n", server.port());
    std::fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    return 0;
  }
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, {net::ip::make_address("127.0.0.1"), 0}};
  accept(ioc, acceptor);
  std::printf("ready port=%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads(); ++i) pool.emplace_back([&] { ioc.run(); });
  int sig;
  sigwait(&stop, &sig);
  ioc.stop();
  for (auto& t : pool) t.join();
}
