#include "tests/support/otlp_receiver.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace troupe::test {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;

struct otlp_receiver::impl {
  net::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
};

otlp_receiver::otlp_receiver() : impl_(std::make_unique<impl>()) {
  thread_ = std::thread([this] { serve(); });
}

otlp_receiver::~otlp_receiver() {
  stopping_ = true;
  // Wakes the blocking accept.
  try {
    net::io_context io;
    tcp::socket wake{io};
    wake.connect(impl_->acceptor.local_endpoint());
  } catch (...) {
  }
  thread_.join();
}

std::string otlp_receiver::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port()) +
         "/v1/traces";
}

// One connection at a time: each exporter request comes on a connection of its own.
void otlp_receiver::serve() {
  while (!stopping_) {
    tcp::socket socket{impl_->io};
    boost::system::error_code ec;
    impl_->acceptor.accept(socket, ec);
    if (ec || stopping_) continue;
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 << 20);
      http::read(socket, buffer, parser, ec);
      if (ec) break;
      auto& req = parser.get();
      ++requests_;
      int status = status_.load();
      if (req.method() != http::verb::post || req.target() != "/v1/traces")
        status = 404;
      else if (status == 200)
        try {
          take(req.body());
        } catch (const std::exception&) {
          ++malformed_;
          status = 400;
        }
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.set(http::field::content_type, "application/json");
      res.body() = "{}";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !req.keep_alive()) break;
    }
  }
}

namespace {

std::string resource_attribute(const json& resource, const std::string& key) {
  for (auto& a : resource.value("attributes", json::array()))
    if (a.value("key", "") == key) return a["value"].value("stringValue", "");
  return {};
}

}  // namespace

void otlp_receiver::take(const std::string& body) {
  auto doc = json::parse(body);  // a malformed export fails the test that caused it
  std::vector<received_span> got;
  for (auto& rs : doc.at("resourceSpans")) {
    auto service = resource_attribute(rs.at("resource"), "service.name");
    auto node = resource_attribute(rs.at("resource"), "service.instance.id");
    for (auto& ss : rs.at("scopeSpans"))
      for (auto& s : ss.at("spans")) {
        received_span out;
        out.trace_id = s.at("traceId");
        out.span_id = s.at("spanId");
        out.parent_span_id = s.value("parentSpanId", "");
        out.trace_state = s.value("traceState", "");
        out.name = s.at("name");
        out.kind = s.at("kind");
        out.service = service;
        out.node = node;
        auto status = s.value("status", json::object());
        out.error = status.value("code", 0) == 2;
        out.status_message = status.value("message", "");
        out.start_ns = std::stoll(s.at("startTimeUnixNano").get<std::string>());
        out.end_ns = std::stoll(s.at("endTimeUnixNano").get<std::string>());
        for (auto& a : s.value("attributes", json::array())) {
          auto& v = a.at("value");
          if (v.contains("stringValue"))
            out.attributes[a.at("key").get<std::string>()] = v["stringValue"];
          else if (v.contains("intValue"))
            out.attributes[a.at("key").get<std::string>()] =
                std::stoll(v["intValue"].get<std::string>());
          else if (v.contains("boolValue"))
            out.attributes[a.at("key").get<std::string>()] = v["boolValue"];
          else if (v.contains("doubleValue"))
            out.attributes[a.at("key").get<std::string>()] = v["doubleValue"];
        }
        got.push_back(std::move(out));
      }
  }
  std::lock_guard<std::mutex> lock(m_);
  spans_.insert(spans_.end(), got.begin(), got.end());
}

std::vector<received_span> otlp_receiver::spans() const {
  std::lock_guard<std::mutex> lock(m_);
  return spans_;
}

std::vector<received_span> otlp_receiver::spans_of(const std::string& trace_id) const {
  std::vector<received_span> out;
  for (auto& s : spans())
    if (s.trace_id == trace_id) out.push_back(s);
  return out;
}

}  // namespace troupe::test
