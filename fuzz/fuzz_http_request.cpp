// Bytes from a client, all the way to the message a route would send: Beast's parser with
// the server's limits, CORS preflight, the router and its percent-decoded parameters, the
// query string, the bearer token's verification, the JSON body and the route's mapping of
// the request into its message. Anything may be refused; nothing may crash, leak, hit
// undefined behaviour or throw.
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "runtime/http/bearer.hpp"
#include "runtime/http/cors.hpp"
#include "runtime/http/router.hpp"
#include "shop_fixture.hpp"

namespace http = boost::beast::http;
using namespace troupe;

namespace {

struct fixture {
  std::unique_ptr<router> routes;
  std::unique_ptr<security::token_verifier> verifier;
  cors_policy cors;
  fixture() {
    std::vector<route> table;
    for (auto& cap : fuzz::shop_capabilities())
      for (auto r : cap.routes) {
        r.capability = cap.name;
        table.push_back(std::move(r));
      }
    routes = std::make_unique<router>(std::move(table));
    security::token_settings settings;
    settings.secret = "fuzzing-secret-0123456789-abcdefghijklmnop";
    verifier = std::make_unique<security::token_verifier>(settings);
    cors.allowed_origins = {"https://shop.example"};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 << 10);  // the server's limits (http_limits, routes' body limits)
  parser.body_limit(f.routes->max_body());
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;
  auto& msg = parser.get();

  http_request req;
  req.method = parse_method(msg.method_string());
  req.target = std::string(msg.target());
  for (auto& field : msg)
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  req.body = msg.body();
  req.id = "4bf92f3577b34da6a3ce929d0e0e4736";

  request_head head;
  head.method = req.method;
  head.target = req.target;
  head.request_id = req.id;
  if (auto* origin = req.header("Origin")) head.origin = *origin;
  if (auto* m = req.header("Access-Control-Request-Method")) head.preflight_method = *m;
  if (auto* h = req.header("Access-Control-Request-Headers")) head.preflight_headers = *h;
  if (is_preflight(head)) answer_preflight(f.cors, *f.routes, req.path(), head);
  if (!head.origin.empty()) {
    http_response res;
    add_cors_headers(f.cors, head.origin, res);
  }

  (void)parse_query(req.target);
  auto found = f.routes->find(req.method, req.path());
  if (found.kind != router::match::found) return 0;
  req.route = found.index;
  req.params = std::move(found.params);
  auto& r = f.routes->at(found.index);
  (void)authenticate(r, req, f.verifier.get(), 1'800'000'000);
  (void)r.map(req);
  return 0;
}
