// runtime/core: the plain pieces every layer uses.
#include <catch2/catch.hpp>

#include <ctime>
#include <random>
#include <set>

#include <caf/make_message.hpp>
#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

#include "runtime/core/address.hpp"
#include "runtime/core/backoff.hpp"
#include "runtime/core/call_context.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/failpoint.hpp"
#include "runtime/core/json.hpp"
#include "runtime/core/lru_cache.hpp"
#include "runtime/core/settings.hpp"
#include "runtime/core/time.hpp"

using namespace troupe;
using namespace std::chrono_literals;

TEST_CASE("the cache evicts the least recently used entry beyond its capacity") {
  lru_cache<std::string, int> cache{2};
  cache.put("a", 1);
  cache.put("b", 2);
  REQUIRE(cache.find("a"));  // a is now more recent than b
  cache.put("c", 3);
  CHECK(cache.size() == 2);
  CHECK(cache.find("b") == nullptr);
  CHECK(*cache.find("a") == 1);
  CHECK(*cache.find("c") == 3);
  CHECK(cache.hits() == 3);
  CHECK(cache.misses() == 1);
}

TEST_CASE("put replaces a value and refreshes its recency; erase removes it") {
  lru_cache<std::string, int> cache{2};
  cache.put("a", 1);
  cache.put("b", 2);
  cache.put("a", 10);
  cache.put("c", 3);  // evicts b, not the refreshed a
  CHECK(*cache.find("a") == 10);
  CHECK(cache.find("b") == nullptr);
  cache.erase("a");
  CHECK(cache.find("a") == nullptr);
  CHECK(cache.size() == 1);
}

TEST_CASE("a cache of capacity zero stores nothing") {
  lru_cache<std::string, int> cache{0};
  cache.put("a", 1);
  CHECK(cache.size() == 0);
  CHECK(cache.find("a") == nullptr);
}

TEST_CASE("backoff doubles from min to max and adds at most the jitter fraction") {
  backoff_policy p{100ms, 1000ms, 0.2};
  for (int i = 0; i < 200; ++i) {
    auto first = backoff_delay(p, 0);
    CHECK(first >= 100ms);
    CHECK(first <= 120ms);
    auto third = backoff_delay(p, 2);
    CHECK(third >= 400ms);
    CHECK(third <= 480ms);
    auto late = backoff_delay(p, 50);  // no overflow past the cap
    CHECK(late >= 1000ms);
    CHECK(late <= 1200ms);
  }
  // Jitter actually varies the delay (200 draws from 0..200 ms are not all equal).
  std::set<long> seen;
  for (int i = 0; i < 200; ++i) seen.insert(backoff_delay({1000ms, 1000ms, 0.2}, 0).count());
  CHECK(seen.size() > 10);
  CHECK(backoff_delay({50ms, 50ms, 0.0}, 3) == 50ms);
}

TEST_CASE("times print as ISO 8601 UTC with milliseconds") {
  CHECK(format_utc_ms(1764169200123) == "2025-11-26T15:00:00.123Z");
  CHECK(format_utc_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_utc_ms(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_utc_ms(951782400000) == "2000-02-29T00:00:00.000Z");  // a leap day
  CHECK(unix_now_ms() > 1764169200123);
  // Against the C library, over centuries, leap years and every millisecond digit.
  std::mt19937_64 rng{11};
  for (int i = 0; i < 20000; ++i) {
    auto ms = static_cast<std::int64_t>(rng() % 7'000'000'000'000ULL) - 1'000'000'000'000;
    auto secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(((ms % 1000) + 1000) % 1000));
    REQUIRE(format_utc_ms(ms) == buf);
  }
}

TEST_CASE("JSON nesting depth is measured without parsing, strings understood") {
  CHECK(json_nesting_depth(R"({"a":[1,{"b":2}]})", 100) == 3);
  CHECK(json_nesting_depth(R"({"a":"[[[[{{{{"})", 100) == 1);
  CHECK(json_nesting_depth(R"({"a":"\"[[[["})", 100) == 1);
  CHECK(json_nesting_depth("42", 100) == 0);
  CHECK(json_nesting_depth(std::string(100000, '['), 33) == 33);  // stops counting early
  CHECK(dump_json(nlohmann::json{{"k", std::string("\xff")}}) == "{\"k\":\"\xEF\xBF\xBD\"}");
}

TEST_CASE("settings are read into typed values; problems name their JSON path") {
  auto doc = nlohmann::json::parse(R"({"n": 5, "ms": 250, "bad": "x", "typo": 1})");
  settings_reader r{doc, "/capabilities/c"};
  CHECK(r.integer("n", 0, 10, 7) == 5);
  CHECK(r.integer("absent", 0, 10, 7) == 7);
  CHECK(r.milliseconds("ms", 1, 1000, 9) == 250ms);
  try {
    r.integer("bad", 0, 10, 0);
    FAIL("a string was read as an integer");
  } catch (const settings_error& e) {
    CHECK(e.path() == "/capabilities/c/bad");
    CHECK(e.problem() == "must be an integer from 0 to 10");
  }
  try {
    r.integer("n", 6, 10, 0);
    FAIL("out of range accepted");
  } catch (const settings_error& e) {
    CHECK(e.path() == "/capabilities/c/n");
  }
  try {
    r.finish();
    FAIL("an unknown key passed");
  } catch (const settings_error& e) {
    CHECK(e.path() == "/capabilities/c/typo");
    CHECK(e.problem().find("allowed: absent, bad, ms, n") != std::string::npos);
  }
  CHECK_THROWS_AS(settings_reader(nlohmann::json::array(), "/x"), settings_error);
}

TEST_CASE("failpoints fire as configured, as many times as configured") {
  configure_failpoints("t.crash=crash*1,t.err=error,t.twice=error*2");
  CHECK_THROWS_WITH(failpoint("t.crash"), Catch::Contains("failpoint t.crash"));
  CHECK_FALSE(failpoint("t.crash"));  // spent
  CHECK(failpoint("t.err"));
  CHECK(failpoint("t.err"));
  CHECK(failpoint("t.twice"));
  CHECK(failpoint("t.twice"));
  CHECK_FALSE(failpoint("t.twice"));
  CHECK_FALSE(failpoint("t.unset"));
  configure_failpoints("t.hang=hang:30");
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(failpoint("t.hang"));
  CHECK(std::chrono::steady_clock::now() - t0 >= 30ms);
  CHECK_THROWS_WITH(configure_failpoints("x=explode"), Catch::Contains("'x=explode'"));
  CHECK_THROWS_WITH(configure_failpoints("x=error*0"), Catch::Contains("count"));
  CHECK_THROWS_WITH(configure_failpoints("noaction"), Catch::Contains("NAME=ACTION"));
  CHECK_THROWS_WITH(configure_failpoints("x=hang:soon"), Catch::Contains("hang:MILLISECONDS"));
  CHECK_THROWS_WITH(configure_failpoints("x=error@x"), Catch::Contains("'@'"));
  configure_failpoints("t.later=error*1@3");
  CHECK_FALSE(failpoint("t.later"));
  CHECK_FALSE(failpoint("t.later"));
  CHECK_FALSE(failpoint("t.later"));
  CHECK(failpoint("t.later"));  // the fourth pass
  CHECK_FALSE(failpoint("t.later"));
  configure_failpoints("");
  CHECK_FALSE(failpoint("t.err"));
}

TEST_CASE("errors carry their code, field and retry hint; CAF's errors map to troupe codes") {
  auto info = describe(make_error(errc::invalid_argument, "name is bad", "name"));
  CHECK(info.status == 400);
  CHECK(std::string(info.name) == "invalid_argument");
  CHECK(info.field == "name");
  CHECK(info.message == "name is bad");
  auto busy = describe(make_error(errc::unavailable, "busy", {}, 3s));
  CHECK(busy.status == 503);
  CHECK(busy.retry_after == 3s);
  CHECK(describe(make_error(errc::outcome_unknown, "x")).status == 504);
  CHECK(describe(make_error(errc::not_implemented, "x")).status == 501);
  CHECK(describe(make_error(errc::headers_too_large, "x")).status == 431);
  CHECK(describe(make_error(errc::unsupported_media_type, "x")).status == 415);
  CHECK(describe(caf::make_error(caf::sec::request_timeout)).code == errc::outcome_unknown);
  auto down = describe(caf::make_error(caf::sec::request_receiver_down));
  CHECK(down.code == errc::unavailable);
  CHECK(down.retry_after > 0s);
  auto odd = describe(caf::make_error(caf::sec::unexpected_message));
  CHECK(odd.internal());
  CHECK(odd.status == 500);
  CHECK(describe(caf::error{200, error_category}).internal());  // a code this build lacks
}

TEST_CASE("a capability's own error codes carry their status and classes to any node") {
  constexpr error_code sold_out{"sold_out", 409};
  constexpr error_code busy{"processor_busy", 503, retry_class::later, saga_reaction::retry};
  auto no = describe(make_error(sold_out, "none left", "items[0]"));
  CHECK(no.code == errc::defined);
  CHECK(no.name == "sold_out");
  CHECK(no.status == 409);
  CHECK(no.field == "items[0]");
  CHECK(no.message == "none left");
  CHECK(no.rejection());
  CHECK(no.retry_after == 0s);
  auto later = describe(make_error(busy, "try again"));
  CHECK(later.status == 503);
  CHECK_FALSE(later.rejection());
  CHECK(later.retry_after == 1s);
  CHECK(render_error(static_cast<std::uint8_t>(errc::defined), error_category,
                     make_error(sold_out, "none left").context()) == "sold_out: none left");
  // Runtime codes keep their classes: an answer about the entity vs a failure of the call.
  CHECK(describe(make_error(errc::not_found, "x")).rejection());
  CHECK_FALSE(describe(make_error(errc::unavailable, "x")).rejection());
  CHECK_FALSE(describe(make_error(errc::outcome_unknown, "x")).rejection());

  // By name (a saga's stored result): known once registered, internal before.
  constexpr error_code listed{"listed_only", 410};
  CHECK(describe_code("listed_only", "m").internal());
  register_error_codes({listed, sold_out, busy});
  register_error_codes({listed});  // the same definition again: fine
  auto named = describe_code("listed_only", "m");
  CHECK(named.status == 410);
  CHECK(named.name == "listed_only");
  CHECK(named.message == "m");
  CHECK(describe_code("not_found", "m").status == 404);
  CHECK_THROWS_AS(register_error_codes({{"sold_out", 410}}), std::invalid_argument);
  CHECK_THROWS_AS(register_error_codes({{"not_found", 404}}), std::invalid_argument);
  CHECK_THROWS_AS(register_error_codes({{"Sold-Out", 409}}), std::invalid_argument);
  CHECK_THROWS_AS(register_error_codes({{"odd", 200}}), std::invalid_argument);
  CHECK_THROWS_AS(
      register_error_codes({{"odd", 409, retry_class::never, saga_reaction::compensate, 3}}),
      std::invalid_argument);
  // A code that is not well formed answers as an internal error naming it.
  CHECK(describe(make_error(error_code{"not_found", 404}, "x")).internal());
  // A malformed one from a peer is a bug, not an answer.
  caf::error forged{
      static_cast<std::uint8_t>(errc::defined), error_category,
      caf::make_message(std::string{"m"}, std::string{}, std::int64_t{0}, std::string{"x"},
                        std::int32_t{200}, std::uint8_t{0}, std::uint8_t{0})};
  CHECK(describe(forged).internal());
  caf::error runtime_name{
      static_cast<std::uint8_t>(errc::defined), error_category,
      caf::make_message(std::string{"m"}, std::string{}, std::int64_t{0}, std::string{"internal"},
                        std::int32_t{409}, std::uint8_t{0}, std::uint8_t{0})};
  CHECK(describe(runtime_name).internal());
  CHECK(describe(runtime_name).message.find("malformed") != std::string::npos);

  // A code met from a peer is known by name from then on (a saga's stored result).
  CHECK(describe_code("met_from_peer", "m").internal());
  describe(make_error(error_code{"met_from_peer", 410}, "gone"));
  CHECK(describe_code("met_from_peer", "m").status == 410);
}

TEST_CASE("an answer stored under a code's former runtime number reads as the code") {
  constexpr error_code moved{"moved_code", 409, retry_class::never, saga_reaction::compensate, 19};
  register_error_codes({moved});
  // As a ledger written by the build before holds it: (message, field, retry_after).
  caf::error stored{
      19, error_category,
      caf::make_message(std::string{"none left"}, std::string{"items[0]"}, std::int64_t{0})};
  auto info = describe(stored);
  CHECK(info.name == "moved_code");
  CHECK(info.status == 409);
  CHECK(info.field == "items[0]");
  CHECK(info.rejection());
  CHECK_THROWS_AS(register_error_codes(
                      {{"other_code", 409, retry_class::never, saga_reaction::compensate, 19}}),
                  std::invalid_argument);
}

TEST_CASE("object-level authorization: a client's call needs its owner or admin") {
  call_context own;  // a capability on its own behalf
  CHECK(acts_for(own, "u-1"));
  call_context anonymous;
  anonymous.from_client = true;
  CHECK_FALSE(acts_for(anonymous, "u-1"));
  call_context alice = anonymous;
  alice.principal = "u-1";
  CHECK(acts_for(alice, "u-1"));
  CHECK_FALSE(acts_for(alice, "u-2"));
  alice.scopes = {admin_scope};
  CHECK(acts_for(alice, "u-2"));
}

TEST_CASE("addresses parse as host:port") {
  CHECK(parse_address("127.0.0.1:80")->port == 80);
  CHECK(parse_address("localhost:0")->host == "localhost");
  CHECK_FALSE(parse_address("127.0.0.1"));
  CHECK_FALSE(parse_address(":80"));
  CHECK_FALSE(parse_address("h:"));
  CHECK_FALSE(parse_address("h:-1"));
  CHECK_FALSE(parse_address("h:65536"));
}

TEST_CASE("JSON strings written directly match what dump_json writes") {
  std::mt19937 rng{7};
  auto check_same = [](const std::string& text) {
    std::string direct;
    append_json_string(direct, text);
    CHECK(direct == dump_json(nlohmann::json(text)));
  };
  for (auto text : {"", "plain", "quote \" and \\ backslash", "tab\tnewline\nbell\x07",
                    "\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"})
    check_same(text);
  // Random valid UTF-8 (code points of every length, controls and quotes included).
  for (int round = 0; round < 2000; ++round) {
    nlohmann::json::string_t text;
    for (int i = 0; i < 12; ++i) {
      std::uint32_t cp = rng() % 4 == 0 ? rng() % 0x80 : rng() % 0x110000;
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0x41;
      if (cp < 0x80) {
        text += static_cast<char>(cp);
      } else if (cp < 0x800) {
        text += static_cast<char>(0xC0 | (cp >> 6));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        text += static_cast<char>(0xE0 | (cp >> 12));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        text += static_cast<char>(0xF0 | (cp >> 18));
        text += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      }
    }
    check_same(text);
  }
  // Bytes that are not UTF-8 still make valid JSON, each replaced by U+FFFD.
  for (int round = 0; round < 2000; ++round) {
    std::string bytes;
    for (int i = 0; i < 10; ++i) bytes += static_cast<char>(rng() % 256);
    std::string direct;
    append_json_string(direct, bytes);
    auto parsed = nlohmann::json::parse(direct, nullptr, false);
    REQUIRE(parsed.is_string());
  }
  std::string lone;
  append_json_string(lone,
                     "a\xff"
                     "b");
  CHECK(lone ==
        "\"a\xEF\xBF\xBD"
        "b\"");
}
