#include "runtime/http/server.hpp"

#include <atomic>
#include <cerrno>
#include <future>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "runtime/core/backoff.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/http/tls_context.hpp"
#include "runtime/observability/log.hpp"
#include "runtime/observability/metrics.hpp"
#include "runtime/observability/tracing.hpp"

namespace troupe {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;
// A concretely typed strand: the default any_io_executor costs a type-erased copy per
// operation, which showed up in profiles.
using strand_type = net::strand<net::io_context::executor_type>;
using plain_stream = beast::basic_stream<tcp, strand_type>;
using tls_stream = beast::ssl_stream<plain_stream>;
using socket_type = net::basic_stream_socket<tcp, strand_type>;

bool valid_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    bool token =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!token) return false;
  }
  for (unsigned char c : value)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

namespace {

struct shared_config {
  http_service service;
  http_limits limits;
  metrics* sink;
  mutable listener_metrics listener;
  std::string name;
  mutable std::atomic<int> in_flight{0};      // read but not yet answered
  mutable std::atomic<int> open{0};           // sessions alive
  mutable std::atomic<bool> draining{false};  // answers now close their connection
  mutable std::atomic<bool> stopped{false};   // I/O threads joined: post nothing more
  std::function<void()> on_session_closed;    // wakes a paused listener
  std::shared_ptr<tls_context> tls;           // null: plain HTTP
};

// Over plain TCP or over TLS (Stream is plain_stream or tls_stream); the same code otherwise.
template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
  static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

 public:
  // `stream_args`: the socket, then for TLS the context.
  template <class... Args>
  explicit session(std::shared_ptr<const shared_config> cfg, Args&&... stream_args)
      : stream_(std::forward<Args>(stream_args)...), cfg_(std::move(cfg)) {
    beast::error_code ec;
    auto peer = lowest().socket().remote_endpoint(ec);
    if (!ec) {
      auto address = peer.address();
      // An IPv4 client of a dual-stack listener is ::ffff:a.b.c.d: name it a.b.c.d, as
      // configurations (trusted proxies) do.
      if (address.is_v6() && address.to_v6().is_v4_mapped())
        address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
      peer_ = address.to_string();
    }
    ++cfg_->open;
    cfg_->listener.connections_changed(1);
  }

  ~session() {
    --cfg_->open;
    cfg_->listener.connections_changed(-1);
    if (!cfg_->stopped && cfg_->on_session_closed) cfg_->on_session_closed();
  }

  void start() {
    if constexpr (is_tls) {
      // The handshake gets the header's deadline: a client that connects and stalls it is
      // a slow client like any other.
      lowest().expires_after(cfg_->limits.header_timeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close_tcp();
                                self->handshaken_ = true;
                                self->read();
                              });
    } else {
      net::dispatch(stream_.get_executor(),
                    beast::bind_front_handler(&session::read, this->shared_from_this()));
    }
  }

  // Called on the strand by the reply callback.
  void write(http_response&& res) {
    if (cfg_->draining) keep_alive_ = false;
    bool sane =
        res.status >= 200 && res.status <= 599 && valid_header("Content-Type", res.content_type);
    for (auto& [key, value] : res.headers) sane = sane && valid_header(key, value);
    if (!sane) {
      // Never let a handler's bytes split or smuggle headers; the detail stays in the log.
      res = error_response(make_error(errc::internal, "refused to send a response with status " +
                                                          std::to_string(res.status) +
                                                          " or an invalid header value"),
                           request_id_);
    }
    // 204 and 304 have no body by definition (Beast refuses to frame one).
    if (res.status == 204 || res.status == 304) res.body.clear();
    out_ = {};
    out_.version(version_);
    out_.result(static_cast<unsigned>(res.status));
    // No Server banner; helmet's defaults for an API (HSTS comes with TLS). A handler's own
    // headers, set below, override these.
    for (auto& [name, value] : security_headers) out_.set(name, value);
    if (cfg_->tls && !cfg_->tls->hsts.empty())
      out_.set(http::field::strict_transport_security, cfg_->tls->hsts);
    if (cfg_->service.decorate) cfg_->service.decorate(origin_, res);
    out_.set(http::field::content_type,
             res.content_type.empty() ? std::string_view("application/json") : res.content_type);
    for (auto& [key, value] : res.headers) out_.set(key, value);
    out_.set("X-Request-Id", request_id_);
    out_.keep_alive(keep_alive_);
    out_.body() = std::move(res.body);
    out_.prepare_payload();
    if (cfg_->sink || cfg_->service.access_log) {
      auto seconds = std::chrono::duration<double>(clock_type::now() - started_).count();
      if (cfg_->sink)
        cfg_->sink->observe_http(method_name(method_), route_label_, res.status, seconds);
      if (cfg_->service.access_log) log_access(res.status, seconds, out_.body().size());
    }
    if (span_.active()) end_span(res);
    lowest().expires_after(cfg_->limits.write_timeout);
    http::async_write(stream_, out_,
                      beast::bind_front_handler(&session::on_write, this->shared_from_this()));
  }

 private:
  void log_access(int status, double seconds, std::size_t bytes) {
    char took[32];
    std::snprintf(took, sizeof took, "%.3f", seconds * 1000);
    log_info("access",
             std::string(method_name(method_)) + " " + target_ + " " + std::to_string(status) +
                 " " + took + " ms " + std::to_string(bytes) + " B " + peer_ + " route " +
                 std::string(route_label_),
             {request_id_, span_id_});
  }

  void end_span(const http_response& res) {
    // Named once the route is known: "GET /api/orders/{id}", never the raw path.
    span_.rename(std::string(method_name(method_)) + " " + std::string(route_label_));
    span_.set("http.request.method", std::string(method_name(method_)));
    if (route_label_ != "unmatched") span_.set("http.route", std::string(route_label_));
    span_.set("http.response.status_code", static_cast<std::int64_t>(res.status));
    span_.set("url.path", target_.substr(0, target_.find('?')));
    span_.set("client.address", peer_);
    if (res.status >= 500) span_.fail("HTTP " + std::to_string(res.status));
    span_.end();
  }

  // The trace the request belongs to: its traceparent's, when valid, or a new one (W3C:
  // an invalid one starts a new trace). Untraced listeners: a random request id.
  void begin_trace(const http::request_parser<http::string_body>::value_type& msg) {
    span_ = {};
    span_id_.clear();
    trace_state_.clear();
    sampled_ = false;
    target_.clear();
    if (cfg_->service.traced_as.empty()) {
      random_hex(16, request_id_);
    } else {
      trace_from(msg);
    }
    if (cfg_->service.access_log || span_.active())
      target_.assign(msg.target().data(), std::min<std::size_t>(msg.target().size(), 256));
  }

  void trace_from(const http::request_parser<http::string_body>::value_type& msg) {
    std::optional<tracing::w3c_traceparent> incoming;
    if (auto it = msg.find("traceparent"); it != msg.end())
      incoming = tracing::parse_traceparent(it->value());
    std::string parent;
    if (incoming) {
      request_id_ = std::move(incoming->trace_id);
      parent = std::move(incoming->span_id);
      sampled_ = incoming->sampled;
      if (auto it = msg.find("tracestate"); it != msg.end())
        trace_state_ = tracing::accept_tracestate(it->value());
    } else {
      random_hex(16, request_id_);
      sampled_ = tracing::sample_new_trace();
    }
    random_hex(8, span_id_);
    if (sampled_ && tracing::enabled())
      span_ = tracing::active_span::start("HTTP", tracing::span_kind::server,
                                          {request_id_, std::move(parent), trace_state_, true},
                                          cfg_->service.traced_as, span_id_);
  }

  void read() {
    parser_.emplace();
    // The largest body any route takes; the request's own limit is set once its route is known.
    parser_->body_limit(cfg_->service.max_body);
    parser_->header_limit(static_cast<std::uint32_t>(cfg_->limits.header_bytes));
    // Idle until the request's first byte (a pipelined one may be buffered already); from
    // then on the header has header_timeout to arrive whole.
    if (buffer_.size() > 0) return read_header();
    lowest().expires_after(cfg_->limits.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->on_header(ec, 0);
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    lowest().expires_after(cfg_->limits.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&session::on_header, this->shared_from_this()));
  }

  // The head is in: the service decides from it alone (method, route, Content-Length,
  // Content-Type) whether to read a body and how much, so an oversized or unwanted body is
  // refused before it is read.
  void on_header(beast::error_code ec, std::size_t) {
    started_ = clock_type::now();
    origin_.clear();
    route_label_ = "unmatched";
    method_ = parse_method(parser_->get().method_string());
    begin_trace(parser_->get());
    // Before any error is answered: a refusal of an over-long body, say, is one too.
    if (auto it = parser_->get().find(http::field::origin); it != parser_->get().end())
      origin_.assign(it->value().data(), std::min<std::size_t>(it->value().size(), 1024));
    if (ec) return on_read(ec, 0);
    auto& msg = parser_->get();
    version_ = msg.version();
    request_head head;
    head.method = method_;
    head.target = msg.target();
    if (auto it = msg.find(http::field::content_type); it != msg.end())
      head.content_type = it->value();
    if (auto length = parser_->content_length()) head.content_length = *length;
    head.has_body = parser_->chunked() || (head.content_length && *head.content_length > 0);
    head.request_id = request_id_;
    if (!origin_.empty()) {
      head.origin = origin_;
      if (head.method == http_method::options) {
        head.preflight_method = msg[http::field::access_control_request_method];
        head.preflight_headers = msg[http::field::access_control_request_headers];
      }
    }
    if (msg.target().size() > max_target_bytes) {
      keep_alive_ = false;
      drain_ = head.has_body;
      return write(error_response(
          errc::uri_too_long,
          "the request target is longer than " + std::to_string(max_target_bytes) + " bytes",
          request_id_));
    }
    admission_ = cfg_->service.admit(head);
    route_label_ = admission_.route_label;
    // A client that sent "Expect: 100-continue" waits for our go-ahead before the body
    // (curl waits a second, then sends anyway).
    bool expects_go_ahead = beast::iequals(msg[http::field::expect], "100-continue");
    if (admission_.refusal) {
      // A small body is read and dropped so the connection stays usable (on_read answers
      // with the refusal); a large, chunked or not yet sent one is not read at all: answer,
      // then close with a lingering drain.
      if (head.has_body && head.content_length && *head.content_length <= max_discard_bytes &&
          !expects_go_ahead) {
        parser_->body_limit(*head.content_length);
        return read_body();
      }
      keep_alive_ = msg.keep_alive() && !head.has_body;
      drain_ = head.has_body;
      return write(std::move(*admission_.refusal));
    }
    parser_->body_limit(admission_.body_limit);
    if (expects_go_ahead) {
      interim_ = {};
      interim_.version(version_);
      interim_.result(http::status::continue_);
      return http::async_write(
          stream_, interim_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            self->read_body();
          });
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_read({}, 0);
    // At least min_body_rate: the most the body may be over the rate, plus header_timeout.
    auto most = parser_->content_length().value_or(admission_.body_limit);
    lowest().expires_after(
        cfg_->limits.header_timeout +
        std::chrono::milliseconds{static_cast<std::int64_t>(
            most * 1000 /
            static_cast<std::uint64_t>(std::max<std::int64_t>(1, cfg_->limits.min_body_rate)))});
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&session::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof)
      return close();
    if (ec) {
      // Answer what we can tell, then close: the stream position is unknown after an error.
      keep_alive_ = false;
      drain_ = true;
      if (ec == http::error::body_limit)
        return write(error_response(errc::payload_too_large,
                                    "the request body is larger than this route accepts",
                                    request_id_));
      if (ec == http::error::header_limit) {
        // The parser takes the request line once it is complete: without a target, the line
        // itself never ended within the limit.
        auto target = parser_->get().target();
        if (target.empty() || target.size() > max_target_bytes)
          return write(error_response(errc::uri_too_long,
                                      "the request line is longer than the limit (" +
                                          std::to_string(max_target_bytes) + " bytes of target)",
                                      request_id_));
        return write(error_response(errc::headers_too_large, "the request headers are too large",
                                    request_id_));
      }
      if (ec.category() == http::make_error_code(http::error::bad_target).category())
        return write(error_response(errc::bad_request, "malformed HTTP request: " + ec.message(),
                                    request_id_));
      return close();
    }
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    if (admission_.refusal) return write(std::move(*admission_.refusal));
    http_request req;
    req.method = method_;
    req.target = std::string(msg.target());
    for (auto& field : msg)
      req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    req.body = std::move(msg.body());
    req.id = request_id_;
    req.span_id = span_id_;
    req.trace_state = trace_state_;
    req.sampled = sampled_;
    req.peer = peer_;
    req.received_at = clock_type::now();
    req.route = admission_.route;
    req.params = std::move(admission_.params);
    counted_ = true;
    ++cfg_->in_flight;
    cfg_->service.handle(std::move(req), make_reply());
  }

  // The reply may be called from any thread; it hops onto this session's strand. If it is
  // dropped unanswered, the client still gets an answer.
  http_reply make_reply() {
    struct state {
      std::shared_ptr<session> self;
      std::atomic<bool> answered{false};
      void answer(http_response&& res) {
        if (answered.exchange(true)) return;
        net::post(self->stream_.get_executor(),
                  [s = self, res = std::move(res)]() mutable { s->write(std::move(res)); });
      }
      ~state() {
        if (!answered.load())
          answer(error_response(errc::internal, "the request was dropped without an answer",
                                self->request_id_));
      }
    };
    auto st = std::make_shared<state>();
    st->self = this->shared_from_this();
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
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().expires_after(std::chrono::seconds{5});
    discard_.resize(64 << 10);
    drain_more();
  }

  // Over TLS too the bytes are read from the socket beneath: they are only discarded.
  void drain_more() {
    lowest().async_read_some(net::buffer(discard_), [self = this->shared_from_this()](
                                                        beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (!ec && self->drained_ < max_drain_bytes) self->drain_more();
    });
  }

  void close() {
    if constexpr (is_tls) {
      if (handshaken_) {
        // close_notify first, so the client knows the response was not cut off; bounded
        // like any write.
        handshaken_ = false;
        lowest().expires_after(std::chrono::seconds{2});
        return stream_.async_shutdown(
            [self = this->shared_from_this()](beast::error_code) { self->close_tcp(); });
      }
    }
    close_tcp();
  }

  void close_tcp() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  plain_stream& lowest() { return beast::get_lowest_layer(stream_); }

  Stream stream_;
  std::shared_ptr<const shared_config> cfg_;
  bool handshaken_ = false;  // TLS: the handshake completed, close with close_notify
  std::string origin_;       // the request's Origin header, for service.decorate
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> out_;
  http::response<http::empty_body> interim_;  // 100 Continue
  clock_type::time_point started_;
  std::string request_id_;  // the trace id
  std::string span_id_;     // the server span's (traced listeners)
  std::string trace_state_;
  bool sampled_ = false;
  tracing::active_span span_;  // recorded when the answer is written
  std::string target_;         // the first 256 bytes, for the access log and the span
  std::string peer_;           // the client's address, as the socket says
  http_method method_ = http_method::other;
  admission admission_;
  std::string_view route_label_ = "unmatched";  // owned by the service's router or a literal
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool drain_ = false;
  bool counted_ = false;  // this request is in cfg_->in_flight
  std::vector<char> discard_;
  std::size_t drained_ = 0;
  static constexpr std::size_t max_drain_bytes = 16 << 20;
  static constexpr std::uint64_t max_discard_bytes = 64 << 10;
  static constexpr std::size_t max_target_bytes = 8 << 10;
  static constexpr std::pair<const char*, const char*> security_headers[] = {
      {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"Origin-Agent-Cluster", "?1"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-DNS-Prefetch-Control", "off"},
      {"X-Download-Options", "noopen"},
      {"X-Frame-Options", "DENY"},
      {"X-Permitted-Cross-Domain-Policies", "none"},
      {"X-XSS-Protection", "0"},
  };
};

bool out_of_descriptors(const beast::error_code& ec) {
  return ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
         ec == net::error::no_memory || ec.value() == ENFILE;
}

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, tcp::endpoint where, std::shared_ptr<shared_config> cfg)
      : ioc_(ioc), acceptor_(net::make_strand(ioc)), timer_(acceptor_.get_executor()), cfg_(cfg) {
    acceptor_.open(where.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(where);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  void start() {
    std::weak_ptr<listener> weak = shared_from_this();
    cfg_->on_session_closed = [weak] {
      if (auto self = weak.lock())
        net::post(self->acceptor_.get_executor(), [self] { self->resume(); });
    };
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Closes the listening socket before returning (the I/O threads must be running), so no
  // new client completes a handshake with a server that will not serve it.
  void close() {
    std::promise<void> done;
    net::post(acceptor_.get_executor(), [self = shared_from_this(), &done] {
      beast::error_code ignored;
      self->closed_ = true;
      self->timer_.cancel();
      self->acceptor_.close(ignored);
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  void accept() {
    if (closed_) return;
    if (cfg_->open.load() >= cfg_->limits.max_connections)
      return pause("the connection cap (" + std::to_string(cfg_->limits.max_connections) +
                   ") is reached");
    acceptor_.async_accept(strand_type(ioc_.get_executor()),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, socket_type socket) {
    if (ec == net::error::operation_aborted || closed_) return;
    if (out_of_descriptors(ec)) return pause("accept failed: " + ec.message());
    if (!ec) {
      failures_ = 0;
      if (paused_since_logged_) {
        log_info("http", cfg_->name + " listener accepting again");
        paused_since_logged_ = false;
      }
      socket.set_option(tcp::no_delay(true), ec);
      if (cfg_->tls)
        std::make_shared<session<tls_stream>>(cfg_, std::move(socket), cfg_->tls->ssl)->start();
      else
        std::make_shared<session<plain_stream>>(cfg_, std::move(socket))->start();
    }
    accept();
  }

  // Stops accepting until a connection closes or the backoff passes, so that being at the
  // cap or out of descriptors never turns into a busy accept loop.
  void pause(const std::string& why) {
    if (paused_) return;
    paused_ = true;
    cfg_->listener.accept_paused();
    if (!paused_since_logged_) {
      log_warn("http", cfg_->name + " listener paused: " + why + "; " +
                           std::to_string(cfg_->open.load()) + " connections open");
      paused_since_logged_ = true;
    }
    timer_.expires_after(backoff_delay(backoff_, failures_++));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->resume();
    });
  }

  void resume() {
    if (!paused_ || closed_) return;
    paused_ = false;
    timer_.cancel();
    accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer timer_;
  std::shared_ptr<shared_config> cfg_;
  backoff_policy backoff_{std::chrono::milliseconds{20}, std::chrono::milliseconds{1000}};
  int failures_ = 0;
  bool paused_ = false;
  bool paused_since_logged_ = false;
  bool closed_ = false;
};

}  // namespace

struct http_server::impl {
  std::shared_ptr<shared_config> cfg;
  net::io_context ioc;
  // A session waiting for its handler has no pending I/O; without this guard, closing the
  // acceptor during a drain would let run() return and strand the replies still to come.
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  std::shared_ptr<listener> accept;
  std::vector<std::thread> threads;
  bool stopped = false;
};

http_server::http_server(const address& where, http_service service, http_limits limits,
                         metrics* sink, std::string name, int threads,
                         std::shared_ptr<tls_context> tls)
    : impl_(std::make_unique<impl>()) {
  auto cfg = std::make_shared<shared_config>();
  cfg->tls = std::move(tls);
  cfg->service = std::move(service);
  cfg->limits = limits;
  cfg->sink = sink;
  if (sink) cfg->listener = sink->for_listener(name);
  cfg->name = std::move(name);
  impl_->cfg = cfg;
  try {
    auto ip = net::ip::make_address(where.host == "localhost" ? "127.0.0.1" : where.host);
    impl_->accept = std::make_shared<listener>(impl_->ioc, tcp::endpoint{ip, where.port}, cfg);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + where.text() + ": " + e.what());
  }
  impl_->accept->start();
  for (int i = 0; i < std::max(1, threads); ++i)
    impl_->threads.emplace_back([this] {
      // A handler that throws must not take the process down with std::terminate.
      for (;;) {
        try {
          impl_->ioc.run();
          return;
        } catch (const std::exception& e) {
          log_error("http", std::string("an I/O handler threw: ") + e.what());
        }
      }
    });
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

int http_server::open_connections() const {
  return impl_->cfg->open.load();
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
  // Sessions still owned by queued handlers die with the io_context; they must not post.
  impl_->cfg->stopped = true;
}

}  // namespace troupe
