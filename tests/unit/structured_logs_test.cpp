// Log lines as JSON objects: whatever a message carries (quotes, line breaks, control
// characters, broken UTF-8), the line is one valid JSON object with the fields collectors
// index, and the message comes back as written (broken bytes as U+FFFD).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "runtime/observability/log.hpp"

using namespace troupe;
using json = nlohmann::json;

TEST_CASE("a log line is one JSON object whatever the message holds") {
  std::string nasty = "say \"hi\"\\ then\nnext line\ttab \x01 bell \x7f caf\xc3\xa9 \xe2\x82\xac";
  auto line = log_line_json("2026-12-01T00:00:00.000Z", log_level::warn, "edge", "gateway", nasty,
                            {"0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"});
  CHECK(line.find('\n') == std::string::npos);
  auto parsed = json::parse(line);
  CHECK(parsed["time"] == "2026-12-01T00:00:00.000Z");
  CHECK(parsed["level"] == "warn");
  CHECK(parsed["node"] == "edge");
  CHECK(parsed["capability"] == "gateway");
  CHECK(parsed["trace_id"] == "0af7651916cd43dd8448eb211c80319c");
  CHECK(parsed["span_id"] == "b7ad6b7169203331");
  CHECK(parsed["message"] == nasty);

  // Bytes that are not UTF-8 (a lone continuation byte, a cut sequence) become U+FFFD.
  auto broken = log_line_json("t", log_level::error, "n", "c", "a\x80z \xe2\x82", {});
  auto message = json::parse(broken)["message"].get<std::string>();
  CHECK(message == "a\xef\xbf\xbdz \xef\xbf\xbd\xef\xbf\xbd");
  CHECK(json::parse(broken).count("trace_id") == 0);
}

TEST_CASE("log levels and formats parse from their names only") {
  CHECK(parse_log_level("debug") == log_level::debug);
  CHECK(parse_log_level("error") == log_level::error);
  CHECK_FALSE(parse_log_level("INFO"));
  CHECK_FALSE(parse_log_level("verbose"));
  CHECK(parse_log_format("json") == log_format::json);
  CHECK(parse_log_format("text") == log_format::text);
  CHECK_FALSE(parse_log_format("xml"));
}
