#include "tests/support/http_client.hpp"

#include <algorithm>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace troupe::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct http_client::impl {
  std::string host, port;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
};

http_client::http_client(std::string where) : impl_(new impl) {
  auto colon = where.rfind(':');
  impl_->host = where.substr(0, colon);
  impl_->port = where.substr(colon + 1);
}

http_client::~http_client() {
  delete impl_;
}

http_result http_client::request(const std::string& method, const std::string& target,
                                 const std::string& body,
                                 std::vector<std::pair<std::string, std::string>> headers) {
  for (int attempt = 0;; ++attempt) {
    try {
      if (!impl_->stream) {
        impl_->stream.emplace(impl_->ioc);
        tcp::resolver resolver{impl_->ioc};
        impl_->stream->expires_after(std::chrono::seconds{5});
        impl_->stream->connect(resolver.resolve(impl_->host, impl_->port));
        ++connects_;
      }
      http::request<http::string_body> req{http::string_to_verb(method), target, 11};
      req.set(http::field::host, impl_->host);
      for (auto& [k, v] : headers) req.set(k, v);
      req.body() = body;
      req.prepare_payload();
      impl_->stream->expires_after(std::chrono::seconds{15});
      http::write(*impl_->stream, req);
      // (This client sends the body at once; a server's 100 Continue is only recorded.)
      beast::flat_buffer buffer;
      http_result out;
      http::response<http::string_body> res;
      for (;;) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 << 20);
        http::read(*impl_->stream, buffer, parser);
        res = parser.release();
        if (res.result_int() >= 200) break;
        out.interim.push_back(static_cast<int>(res.result_int()));
      }
      out.status = static_cast<int>(res.result_int());
      out.body = res.body();
      for (auto& f : res) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        out.headers[name] = std::string(f.value());
      }
      if (!res.keep_alive()) impl_->stream.reset();
      return out;
    } catch (const beast::system_error&) {
      // A server may close an idle kept-alive connection; retry once on a fresh one.
      impl_->stream.reset();
      if (attempt > 0) throw;
    }
  }
}

}  // namespace troupe::test
