// Bytes from a client, all the way to the message a route would send: Beast's parser with
// the server's limits, the API listener's admission (router, percent-decoded parameters,
// body and media-type checks, CORS preflight), the query string, the bearer token's
// verification, the JSON body and the route's mapping of the request into its message. Anything may
// be refused; nothing may crash, leak, hit undefined behaviour or throw.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "runtime/http/admin.hpp"
#include "runtime/http/bearer.hpp"
#include "runtime/http/cors.hpp"
#include "runtime/http/router.hpp"
#include "shop_fixture.hpp"

namespace http = boost::beast::http;
using namespace troupe;

namespace {

// The API listener of a gateway node, as node.cpp builds it: the shop's routes, admitted
// by make_api_service (404, 405, 413, 415, CORS preflights), tokens verified, CORS on.
struct fixture {
  std::shared_ptr<const router> routes;
  std::shared_ptr<const security::token_verifier> verifier;
  http_service service;
  fixture() {
    std::vector<route> table;
    for (auto& cap : fuzz::shop_capabilities())
      for (auto r : cap.routes) {
        r.capability = cap.name;
        table.push_back(std::move(r));
      }
    routes = std::make_shared<const router>(std::move(table));
    security::token_settings settings;
    settings.secret = "fuzzing-secret-0123456789-abcdefghijklmnop";
    verifier = std::make_shared<const security::token_verifier>(settings);
    auto cors = std::make_shared<cors_policy>();
    cors->allowed_origins = {"https://shop.example"};
    service = make_api_service({}, false, routes, {}, verifier, cors);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 << 10);  // the server's limits (http_limits, routes' body limits)
  parser.body_limit(f.service.max_body);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;
  auto& msg = parser.get();

  // The head as the server's session hands it to admission (server.cpp, on_header).
  const std::string request_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  request_head head;
  head.method = parse_method(msg.method_string());
  head.target = msg.target();
  if (auto it = msg.find(http::field::content_type); it != msg.end())
    head.content_type = it->value();
  if (auto length = parser.content_length()) head.content_length = *length;
  head.has_body = parser.chunked() || (head.content_length && *head.content_length > 0);
  head.request_id = request_id;
  head.origin = msg[http::field::origin];
  if (!head.origin.empty() && head.method == http_method::options) {
    head.preflight_method = msg[http::field::access_control_request_method];
    head.preflight_headers = msg[http::field::access_control_request_headers];
  }
  auto admitted = f.service.admit(head);
  if (f.service.decorate) {
    http_response res;
    f.service.decorate(head.origin, res);
  }
  if (admitted.refusal || admitted.route < 0) return 0;

  http_request req;
  req.method = head.method;
  req.target = std::string(msg.target());
  for (auto& field : msg)
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  req.body = msg.body();
  req.id = request_id;
  req.route = admitted.route;
  req.params = std::move(admitted.params);
  (void)parse_query(req.target);
  auto& r = f.routes->at(req.route);
  (void)authenticate(r, req, f.verifier.get(), 1'800'000'000);
  (void)r.map(req);
  return 0;
}
