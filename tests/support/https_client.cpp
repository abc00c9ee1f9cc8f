#include "tests/support/https_client.hpp"

#include <stdexcept>

#include <openssl/ssl.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "tests/support/auth.hpp"

namespace troupe::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

http_result https_request(const std::string& where, const https_options& options,
                          const std::string& method, const std::string& target,
                          const std::string& body,
                          std::vector<std::pair<std::string, std::string>> headers) {
  auto colon = where.rfind(':');
  auto host = where.substr(0, colon), port = where.substr(colon + 1);
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  if (options.max_tls_1_2) SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (!options.ca_file.empty()) {
    ctx.load_verify_file(options.ca_file);
    ctx.set_verify_mode(ssl::verify_peer);
  }
  beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};
  SSL_set_tlsext_host_name(stream.native_handle(), options.host_name.c_str());
  if (!options.ca_file.empty())
    stream.set_verify_callback(ssl::host_name_verification(options.host_name));
  tcp::resolver resolver{ioc};
  auto& socket = beast::get_lowest_layer(stream);
  socket.expires_after(std::chrono::seconds{10});
  socket.connect(resolver.resolve(host, port));
  beast::error_code ec;
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) throw std::runtime_error("TLS handshake failed: " + ec.message());
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, options.host_name);
  bool authorized = false;
  for (auto& [k, v] : headers) {
    req.set(k, v);
    authorized = authorized || beast::iequals(k, "Authorization");
  }
  if (!authorized) req.set(http::field::authorization, "Bearer " + admin_token());
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  http_result out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  // A clean close: the server's close_notify is fine, a cut-off stream is not thrown.
  stream.shutdown(ec);
  return out;
}

void make_test_ca(const temp_dir& dir, const std::vector<std::string>& names) {
  std::vector<std::string> args{source_dir() + "/deploy/make-test-ca.sh", dir.path()};
  args.insert(args.end(), names.begin(), names.end());
  auto made = run_command(args, std::chrono::seconds{60});
  if (made.status != 0) throw std::runtime_error("make-test-ca.sh failed: " + made.err);
}

}  // namespace troupe::test
