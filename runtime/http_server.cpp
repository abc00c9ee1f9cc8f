#include "runtime/http_server.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/metrics.hpp"

namespace troupe {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;
// A concretely typed strand: the default any_io_executor costs a type-erased copy per
// operation, which showed up in profiles.
using strand_type = net::strand<net::io_context::executor_type>;
using stream_type = beast::basic_stream<tcp, strand_type>;
using socket_type = net::basic_stream_socket<tcp, strand_type>;

namespace {

struct shared_config {
  http_handler handler;
  http_limits limits;
  metrics* sink;
  mutable std::atomic<int> in_flight{0};      // read but not yet answered
  mutable std::atomic<bool> draining{false};  // answers now close their connection
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(socket_type&& socket, std::shared_ptr<const shared_config> cfg)
      : stream_(std::move(socket)), cfg_(std::move(cfg)) {}

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&session::read, shared_from_this()));
  }

  // Called on the strand by the reply callback.
  void write(http_response&& res, std::string method) {
    if (cfg_->draining) keep_alive_ = false;
    auto status = res.status;
    out_ = {};
    out_.version(version_);
    out_.result(static_cast<unsigned>(status));
    out_.set(http::field::server, "troupe");
    out_.set(http::field::content_type, res.content_type);
    for (auto& [key, value] : res.headers) out_.set(key, value);
    out_.keep_alive(keep_alive_);
    out_.body() = std::move(res.body);
    out_.prepare_payload();
    if (cfg_->sink) {
      auto seconds = std::chrono::duration<double>(clock_type::now() - started_).count();
      cfg_->sink->observe_http(method, res.route.empty() ? "unmatched" : res.route, status,
                               seconds);
    }
    stream_.expires_after(cfg_->limits.write_timeout);
    http::async_write(stream_, out_,
                      beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(cfg_->limits.body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(cfg_->limits.header_bytes));
    stream_.expires_after(cfg_->limits.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  // A client that sent "Expect: 100-continue" waits for our go-ahead before the body (curl
  // waits a second, then sends anyway). A body over the limit fails in the header already,
  // so such a client gets its 413 without sending the body at all.
  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read(ec, 0);
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      interim_ = {};
      interim_.version(parser_->get().version());
      interim_.result(http::status::continue_);
      return http::async_write(stream_, interim_,
                               [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                 if (ec) return self->close();
                                 self->read_body();
                               });
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_read({}, 0);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset)
      return close();
    started_ = clock_type::now();
    if (ec) {
      // Answer what we can tell, then close: the stream position is unknown after an error.
      keep_alive_ = false;
      drain_ = true;
      version_ = 11;
      if (ec == http::error::body_limit)
        return write(json_error(413, "payload_too_large",
                                "request body exceeds " + std::to_string(cfg_->limits.body_bytes) +
                                    " bytes"),
                     "UNKNOWN");
      if (ec == http::error::header_limit)
        return write(json_error(431, "headers_too_large", "request headers are too large"),
                     "UNKNOWN");
      if (ec.category() == http::make_error_code(http::error::bad_target).category())
        return write(json_error(400, "bad_request", "malformed HTTP request: " + ec.message()),
                     "UNKNOWN");
      return close();
    }
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    http_request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (auto& field : msg)
      req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    req.body = std::move(msg.body());
    auto method = req.method;
    counted_ = true;
    ++cfg_->in_flight;
    cfg_->handler(std::move(req), make_reply(std::move(method)));
  }

  // The reply may be called from any thread; it hops onto this session's strand. If it is
  // dropped unanswered, the client still gets an answer.
  http_reply make_reply(std::string method) {
    struct state {
      std::shared_ptr<session> self;
      std::string method;
      std::atomic<bool> answered{false};
      void answer(http_response&& res) {
        if (answered.exchange(true)) return;
        net::post(self->stream_.get_executor(),
                  [s = self, res = std::move(res), m = method]() mutable {
                    s->write(std::move(res), std::move(m));
                  });
      }
      ~state() {
        if (!answered.load())
          answer(json_error(500, "internal", "the request was dropped without an answer"));
      }
    };
    auto st = std::make_shared<state>();
    st->self = shared_from_this();
    st->method = std::move(method);
    return [st](http_response&& res) { st->answer(std::move(res)); };
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (counted_) {  // counted until the response is on the wire, so a drain waits for it
      counted_ = false;
      --cfg_->in_flight;
    }
    if (ec) return close();
    if (!keep_alive_) return drain_ ? drain() : close();
    read();
  }

  // Lingering close after refusing a request mid-body: closing with unread input makes the
  // kernel send a reset, and a client still sending its body would never read our answer.
  // So: stop sending, then read and discard what still comes, within limits.
  void drain() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds{5});
    discard_.resize(64 << 10);
    drain_more();
  }

  void drain_more() {
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (!ec && self->drained_ < max_drain_bytes) self->drain_more();
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  stream_type stream_;
  std::shared_ptr<const shared_config> cfg_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> out_;
  http::response<http::empty_body> interim_;  // 100 Continue
  clock_type::time_point started_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool drain_ = false;
  bool counted_ = false;  // this request is in cfg_->in_flight
  std::vector<char> discard_;
  std::size_t drained_ = 0;
  static constexpr std::size_t max_drain_bytes = 16 << 20;
};

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, tcp::endpoint where, std::shared_ptr<const shared_config> cfg)
      : ioc_(ioc), acceptor_(net::make_strand(ioc)), cfg_(std::move(cfg)) {
    acceptor_.open(where.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(where);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  void start() { accept(); }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
    });
  }

 private:
  void accept() {
    acceptor_.async_accept(strand_type(ioc_.get_executor()),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, socket_type socket) {
    if (ec == net::error::operation_aborted) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<session>(std::move(socket), cfg_)->start();
    }
    accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<const shared_config> cfg_;
};

}  // namespace

struct http_server::impl {
  std::shared_ptr<const shared_config> cfg;
  net::io_context ioc;
  // A session waiting for its handler has no pending I/O; without this guard, closing the
  // acceptor during a drain would let run() return and strand the replies still to come.
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  std::shared_ptr<listener> accept;
  std::vector<std::thread> threads;
  bool stopped = false;
};

http_server::http_server(const address& where, http_handler handler, http_limits limits,
                         metrics* sink, int threads)
    : impl_(std::make_unique<impl>()) {
  auto cfg = std::make_shared<shared_config>();
  cfg->handler = std::move(handler);
  cfg->limits = limits;
  cfg->sink = sink;
  impl_->cfg = cfg;
  try {
    auto ip = net::ip::make_address(where.host == "localhost" ? "127.0.0.1" : where.host);
    impl_->accept = std::make_shared<listener>(impl_->ioc, tcp::endpoint{ip, where.port}, cfg);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + where.text() + ": " + e.what());
  }
  impl_->accept->start();
  for (int i = 0; i < std::max(1, threads); ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

http_server::~http_server() {
  stop();
}

std::uint16_t http_server::port() const {
  return impl_->accept->port();
}

int http_server::in_flight() const {
  return impl_->cfg->in_flight.load();
}

void http_server::stop(std::chrono::milliseconds grace) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->cfg->draining = true;
  impl_->accept->close();
  auto until = clock_type::now() + grace;
  while (impl_->cfg->in_flight.load() > 0 && clock_type::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
}

}  // namespace troupe
