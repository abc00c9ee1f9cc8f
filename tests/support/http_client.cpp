#include "tests/support/http_client.hpp"

#include "tests/support/auth.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <algorithm>
#include <cerrno>
#include <optional>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace troupe::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::pair<std::string, std::string> split(const std::string& where) {
  auto colon = where.rfind(':');
  return {where.substr(0, colon), where.substr(colon + 1)};
}

http_result to_result(http::response<http::string_body>& res) {
  http_result out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (auto& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    out.headers[name] = std::string(f.value());
  }
  return out;
}

// Whether the peer has closed (or reset) an idle connection: a non-blocking peek that finds
// the end of the stream. Pending bytes or nothing at all both mean it is still open.
bool closed_by_peer(int fd) {
  char byte;
  auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace

struct http_client::impl {
  std::string host, port;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

http_client::http_client(std::string where)
    : impl_(std::make_unique<impl>()), token_(admin_token()) {
  std::tie(impl_->host, impl_->port) = split(where);
}

http_client::~http_client() = default;

http_result http_client::request(const std::string& method, const std::string& target,
                                 const std::string& body,
                                 std::vector<std::pair<std::string, std::string>> headers) {
  bool safe = method == "GET" || method == "HEAD";
  for (int attempt = 0;; ++attempt) {
    if (impl_->stream && closed_by_peer(impl_->stream->socket().native_handle()))
      impl_->stream.reset();
    bool reused = impl_->stream.has_value();
    try {
      if (!impl_->stream) {
        impl_->stream.emplace(impl_->ioc);
        impl_->buffer.clear();
        tcp::resolver resolver{impl_->ioc};
        impl_->stream->expires_after(std::chrono::seconds{5});
        impl_->stream->connect(resolver.resolve(impl_->host, impl_->port));
        ++connects_;
      }
      http::request<http::string_body> req;
      req.method_string(method);
      req.target(target);
      req.version(11);
      req.set(http::field::host, impl_->host);
      bool authorized = false;
      for (auto& [k, v] : headers) {
        req.set(k, v);
        authorized = authorized || beast::iequals(k, "Authorization");
      }
      if (!authorized && !token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
      req.body() = body;
      req.prepare_payload();
      impl_->stream->expires_after(std::chrono::seconds{15});
      http::write(*impl_->stream, req);
      // (This client sends the body at once; a server's 100 Continue is only recorded.)
      http_result out;
      http::response<http::string_body> res;
      for (;;) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 << 20);
        http::read(*impl_->stream, impl_->buffer, parser);
        res = parser.release();
        if (res.result_int() >= 200) break;
        out.interim.push_back(static_cast<int>(res.result_int()));
      }
      auto interim = std::move(out.interim);
      out = to_result(res);
      out.interim = std::move(interim);
      if (!res.keep_alive()) impl_->stream.reset();
      return out;
    } catch (const beast::system_error&) {
      impl_->stream.reset();
      // Only a GET on a reused connection may have hit a close we could not see coming.
      if (attempt > 0 || !safe || !reused) throw;
    }
  }
}

struct raw_connection::impl {
  net::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
};

raw_connection::raw_connection(const std::string& where) : impl_(std::make_unique<impl>()) {
  auto [host, port] = split(where);
  tcp::resolver resolver{impl_->ioc};
  net::connect(impl_->socket, resolver.resolve(host, port));
}

raw_connection::~raw_connection() = default;

void raw_connection::send(std::string_view bytes) {
  net::write(impl_->socket, net::buffer(bytes.data(), bytes.size()));
}

bool raw_connection::readable(std::chrono::milliseconds wait) {
  if (impl_->buffer.size() > 0) return true;
  pollfd p{impl_->socket.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
}

http_result raw_connection::read(std::chrono::milliseconds deadline) {
  if (!readable(deadline)) throw std::runtime_error("no response within the deadline");
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(impl_->socket, impl_->buffer, parser);
  auto res = parser.release();
  return to_result(res);
}

}  // namespace troupe::test
