// Bearer token verification against forged and broken tokens. Good tokens are minted by an
// independent implementation (cpp-jwt's signers and base64, with keys OpenSSL generates
// here), as well as by troupe's own mint_token, which cpp-jwt must accept in turn.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <random>
#include <thread>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <jwt/jwt.hpp>
#include <nlohmann/json.hpp>

#include "runtime/security/token_verifier.hpp"
#include "tests/support/auth.hpp"

using namespace troupe::security;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string secret = "0123456789abcdef0123456789abcdef-test-secret";
const std::int64_t now = 1'800'000'000;

std::string b64url(const std::string& bytes) {
  return troupe::test::base64url(bytes);
}

// header.payload.signature with cpp-jwt's signer for `alg` (key: secret or private PEM).
std::string forge(const json& header, const json& claims, const std::string& key) {
  return troupe::test::forge_token(header, claims, key);
}

json claims_for(const std::string& sub) {
  return {{"sub", sub}, {"exp", now + 600}, {"iat", now}, {"scope", "orders:read admin"}};
}

json hs256() {
  return {{"alg", "HS256"}, {"typ", "JWT"}};
}

token_settings hs_settings() {
  token_settings s;
  s.secret = secret;
  return s;
}

troupe::test::key_pair generate(bool rsa) {
  return troupe::test::generate_key_pair(rsa);
}

std::string why_refused(const token_verifier& v, const std::string& token) {
  auto r = v.verify(token, now);
  return r ? "accepted" : r.why;
}

}  // namespace

TEST_CASE("a token from another implementation is accepted with its subject and scopes") {
  token_verifier v{hs_settings()};
  auto r = v.verify(forge(hs256(), claims_for("alice"), secret), now);
  REQUIRE(r);
  CHECK(r.who->subject == "alice");
  CHECK(r.who->scopes == std::vector<std::string>{"orders:read", "admin"});
  CHECK(r.who->has_scope("admin"));
  CHECK_FALSE(r.who->has_scope("orders"));
  CHECK(r.who->expires_at == now + 600);
  auto scp = claims_for("bob");
  scp.erase("scope");
  scp["scp"] = {"inventory:write"};
  auto with_scp = v.verify(forge(hs256(), scp, secret), now);
  REQUIRE(with_scp);
  CHECK(with_scp.who->scopes == std::vector<std::string>{"inventory:write"});
}

TEST_CASE("troupe's own tokens verify, here and with cpp-jwt") {
  auto s = hs_settings();
  s.issuer = "troupe-dev";
  s.audience = "shop";
  token_verifier v{s};
  auto token = mint_token(s, {"carol", {"inventory:write"}, 0}, now, 3600s);
  auto r = v.verify(token, now);
  REQUIRE(r);
  CHECK(r.who->subject == "carol");
  CHECK(r.who->has_scope("inventory:write"));
  CHECK(r.who->expires_at == now + 3600);
  std::error_code ec;
  auto decoded = jwt::decode(token, jwt::params::algorithms({"HS256"}), ec,
                             jwt::params::secret(secret), jwt::params::verify(false));
  CHECK_FALSE(ec);
  CHECK(decoded.payload().get_claim_value<std::string>("sub") == "carol");
  CHECK(decoded.payload().get_claim_value<std::string>("iss") == "troupe-dev");
  // cpp-jwt checks the signature too (its clock is the real one: exp is years ahead).
  auto real_now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  auto fresh = mint_token(s, {"carol", {}, 0}, real_now, 3600s);
  std::error_code ec2;
  jwt::decode(fresh, jwt::params::algorithms({"HS256"}), ec2, jwt::params::secret(secret),
              jwt::params::issuer("troupe-dev"), jwt::params::aud("shop"));
  CHECK_FALSE(ec2);
}

TEST_CASE("forged and broken tokens are refused, every one") {
  token_verifier v{hs_settings()};
  auto good = forge(hs256(), claims_for("alice"), secret);
  REQUIRE(why_refused(v, good) == "accepted");

  // No algorithm, in every spelling, with or without a signature.
  for (std::string alg : {"none", "NONE", "None", "nOnE"}) {
    auto part = b64url(json{{"alg", alg}}.dump()) + "." + b64url(claims_for("alice").dump());
    CHECK(why_refused(v, part + ".") == "an empty segment (unsigned tokens are never accepted)");
    CHECK(why_refused(v, part + "." + b64url("x")) == "algorithm '" + alg + "' is not allowed");
  }
  // The right key with an algorithm that is not allowed.
  CHECK(why_refused(v, forge({{"alg", "HS512"}}, claims_for("alice"), secret)) ==
        "algorithm 'HS512' is not allowed");
  // The wrong key.
  CHECK(why_refused(v, forge(hs256(), claims_for("alice"), secret + "x")) == "bad signature");
  // Time.
  auto expired = claims_for("alice");
  expired["exp"] = now - 31;
  CHECK(why_refused(v, forge(hs256(), expired, secret)) == "expired");
  auto within_leeway = claims_for("alice");
  within_leeway["exp"] = now - 29;
  CHECK(why_refused(v, forge(hs256(), within_leeway, secret)) == "accepted");
  auto early = claims_for("alice");
  early["nbf"] = now + 31;
  CHECK(why_refused(v, forge(hs256(), early, secret)) == "not valid yet (nbf)");
  auto no_exp = claims_for("alice");
  no_exp.erase("exp");
  CHECK(why_refused(v, forge(hs256(), no_exp, secret)) == "no exp claim (a number)");
  auto text_exp = claims_for("alice");
  text_exp["exp"] = "tomorrow";
  CHECK(why_refused(v, forge(hs256(), text_exp, secret)) == "no exp claim (a number)");
  auto at_the_edge = claims_for("alice");
  at_the_edge["exp"] = now - 30;  // exp + leeway is now: over
  CHECK(why_refused(v, forge(hs256(), at_the_edge, secret)) == "expired");
  for (json bad_exp : {json(1e300), json(-5), json(now + 0.5 - 600)}) {
    auto c = claims_for("alice");
    c["exp"] = bad_exp;
    CHECK(why_refused(v, forge(hs256(), c, secret)) != "accepted");
  }
  auto fractional = claims_for("alice");
  fractional["exp"] = now + 10.75;
  CHECK(why_refused(v, forge(hs256(), fractional, secret)) == "accepted");
  auto text_nbf = claims_for("alice");
  text_nbf["nbf"] = "now";
  CHECK(why_refused(v, forge(hs256(), text_nbf, secret)) == "nbf is not a number");
  auto fraction_early = claims_for("alice");
  fraction_early["nbf"] = now + 30.2;  // rounded up: not yet
  CHECK(why_refused(v, forge(hs256(), fraction_early, secret)) == "not valid yet (nbf)");
  auto no_sub = claims_for("alice");
  no_sub.erase("sub");
  CHECK(why_refused(v, forge(hs256(), no_sub, secret)) ==
        "no sub claim (a string of 1 to 256 bytes)");
  CHECK(why_refused(v, forge(hs256(), claims_for(std::string(257, 's')), secret)) ==
        "no sub claim (a string of 1 to 256 bytes)");
  auto many_scopes = claims_for("alice");
  std::string scopes;
  for (int i = 0; i < 65; ++i) scopes += "s" + std::to_string(i) + " ";
  many_scopes["scope"] = scopes;
  CHECK(why_refused(v, forge(hs256(), many_scopes, secret)) == "too many or too long scopes");
  auto odd_scp = claims_for("alice");
  odd_scp.erase("scope");
  odd_scp["scp"] = json::array({"a", 1});
  CHECK(why_refused(v, forge(hs256(), odd_scp, secret)) ==
        "scp holds a non-string, or too many or too long scopes");
  // Unknown critical extensions, an audience nobody configured, duplicate member names.
  CHECK(why_refused(v, forge({{"alg", "HS256"}, {"crit", {"exp"}}}, claims_for("alice"), secret)) ==
        "the header has crit extensions");
  auto with_aud = claims_for("alice");
  with_aud["aud"] = "billing";
  CHECK(why_refused(v, forge(hs256(), with_aud, secret)) ==
        "the token names an audience; none is configured");
  auto head = b64url(R"({"alg":"HS256"})");
  auto dup = head + "." + b64url(R"({"sub":"alice","sub":"admin","exp":1800000600})");
  auto dup_sig = jwt::HMACSign<jwt::algo::HS256>::sign(secret, dup);
  CHECK(why_refused(v, dup + "." + b64url(dup_sig.first)) ==
        "the payload is not a base64url JSON object");

  // A flipped bit in the signature, and a payload swapped in under a valid signature.
  auto sig_at = good.rfind('.') + 1;
  auto flipped = good;
  flipped[sig_at] = flipped[sig_at] == 'A' ? 'B' : 'A';
  CHECK(why_refused(v, flipped) == "bad signature");
  auto mallory = forge(hs256(), claims_for("mallory"), secret);
  auto swapped = good.substr(0, good.find('.')) +
                 mallory.substr(mallory.find('.'), mallory.rfind('.') - mallory.find('.')) +
                 good.substr(good.rfind('.'));
  CHECK(why_refused(v, swapped) == "bad signature");
  // A different spelling of the same signature bytes (non-zero unused bits) is not the token.
  auto last = good.back();
  auto respelled = good;
  respelled.back() = static_cast<char>(last + 1);
  CHECK(why_refused(v, respelled) == "bad signature");

  // Malformed.
  std::vector<std::string> malformed = {"",
                                        "abc",
                                        "a.b",
                                        good + ".x",
                                        "..",
                                        good.substr(0, good.rfind('.')) + ".",
                                        "." + good.substr(good.find('.') + 1),
                                        good + "=",
                                        "e30.e30.e30",
                                        "%%%.e30.abc",
                                        std::string(9000, 'a')};
  for (auto& bad : malformed) CHECK(why_refused(v, bad) != "accepted");
  // Every single-character change of a good token is refused, and nothing throws.
  std::mt19937 random{7};
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    auto mutated = good;
    auto at = random() % mutated.size();
    auto c = alphabet[random() % alphabet.size()];
    if (mutated[at] == c) continue;
    mutated[at] = c;
    if (v.verify(mutated, now)) ++accepted;
  }
  CHECK(accepted == 0);
  auto deep = claims_for("alice");
  json nested = 1;
  for (int i = 0; i < 50; ++i) nested = json::array({nested});
  deep["x"] = nested;
  CHECK(why_refused(v, forge(hs256(), deep, secret)) ==
        "the payload is not a base64url JSON object");
}

TEST_CASE("issuer and audience, the audience also as an array") {
  auto s = hs_settings();
  s.issuer = "https://auth.example";
  s.audience = "shop";
  token_verifier v{s};
  auto c = claims_for("alice");
  c["iss"] = "https://auth.example";
  c["aud"] = "shop";
  CHECK(why_refused(v, forge(hs256(), c, secret)) == "accepted");
  c["aud"] = json::array({"billing", "shop"});
  CHECK(why_refused(v, forge(hs256(), c, secret)) == "accepted");
  c["aud"] = json::array({"billing"});
  CHECK(why_refused(v, forge(hs256(), c, secret)) == "wrong audience");
  c["aud"] = "shop";
  c["iss"] = "https://evil.example";
  CHECK(why_refused(v, forge(hs256(), c, secret)) == "wrong issuer");
  c.erase("iss");
  CHECK(why_refused(v, forge(hs256(), c, secret)) == "wrong issuer");
}

TEST_CASE("public keys: RS256 and ES256 accepted, HS tokens signed with the key refused") {
  for (bool rsa : {true, false}) {
    auto keys = generate(rsa);
    token_settings s;
    s.algorithms = {rsa ? "RS256" : "ES256"};
    s.public_key_pem = keys.public_pem;
    token_verifier v{s};
    json header = {{"alg", s.algorithms.front()}, {"typ", "JWT"}};
    auto r = v.verify(forge(header, claims_for("dave"), keys.private_pem), now);
    INFO(r.why);
    CHECK(r);
    // The classic confusion: an HS256 token whose secret is the public key itself.
    CHECK(why_refused(v, forge(hs256(), claims_for("dave"), keys.public_pem)) ==
          "algorithm 'HS256' is not allowed");
    // Signed by another key of the same kind.
    auto other = generate(rsa);
    CHECK(why_refused(v, forge(header, claims_for("dave"), other.private_pem)) == "bad signature");
    // An allowlist that mixes HS with a configured public key is refused at start.
    s.algorithms = {"HS256", s.algorithms.front()};
    CHECK_THROWS_WITH(token_verifier{s}, Catch::Contains("cannot be allowed together"));
    s.algorithms = {"HS256"};
    s.secret = secret;
    CHECK_THROWS_WITH(token_verifier{s}, Catch::Contains("public key is configured"));
  }
}

TEST_CASE("HS384 and HS512 when allowed; a public key must fit every allowed algorithm") {
  auto s = hs_settings();
  s.algorithms = {"HS384", "HS512"};
  token_verifier v{s};
  CHECK(why_refused(v, forge({{"alg", "HS384"}}, claims_for("alice"), secret)) == "accepted");
  CHECK(why_refused(v, forge({{"alg", "HS512"}}, claims_for("alice"), secret)) == "accepted");
  CHECK(why_refused(v, forge(hs256(), claims_for("alice"), secret)) ==
        "algorithm 'HS256' is not allowed");
  auto rsa = generate(true);
  auto ec = generate(false);
  token_settings wrong;
  wrong.algorithms = {"ES256"};
  wrong.public_key_pem = rsa.public_pem;
  CHECK_THROWS_WITH(token_verifier{wrong}, Catch::Contains("ES256 needs an EC key"));
  wrong.algorithms = {"ES384"};
  wrong.public_key_pem = ec.public_pem;
  CHECK_THROWS_WITH(token_verifier{wrong}, Catch::Contains("curve secp384r1"));
  wrong.algorithms = {"RS256"};
  CHECK_THROWS_WITH(token_verifier{wrong}, Catch::Contains("RS256 needs an RSA key"));
}

TEST_CASE("settings that cannot be safe are refused at start with a clear message") {
  auto s = hs_settings();
  s.secret = "short-secret";
  CHECK_THROWS_WITH(token_verifier{s}, Catch::Contains("12 bytes; at least 32"));
  s = hs_settings();
  s.algorithms = {"none"};
  CHECK_THROWS_WITH(token_verifier{s}, Catch::Contains("'none' is not one of"));
  s.algorithms = {};
  CHECK_THROWS_WITH(token_verifier{s}, Catch::Contains("at least one"));
  token_settings rs;
  rs.algorithms = {"RS256"};
  rs.public_key_pem = "not a key";
  CHECK_THROWS_WITH(token_verifier{rs}, Catch::Contains("not a PEM public key"));
  CHECK_THROWS(mint_token(rs, {"x", {}, 0}, now, 60s));
  CHECK_THROWS_WITH(mint_token(hs_settings(), {"x", {}, 0}, now, 0s), Catch::Contains("ttl"));
}

TEST_CASE("a remembered token still meets exp and nbf on every use") {
  token_verifier v{hs_settings()};
  auto claims = claims_for("alice");
  claims["nbf"] = now - 10;
  auto token = forge(hs256(), claims, secret);
  REQUIRE(v.verify(token, now));
  REQUIRE(v.cached() == 1);
  auto again = v.verify(token, now + 599);
  REQUIRE(again);
  CHECK(again.who->subject == "alice");
  CHECK(again.who->has_scope("admin"));
  CHECK(v.verify(token, now + 600 + 29));
  CHECK(v.verify(token, now + 600 + 30).why == "expired");
  CHECK(v.verify(token, now - 10 - 31).why == "not valid yet (nbf)");
  CHECK(v.verify(token, now));
}

TEST_CASE("a token one byte away from a remembered one is checked in full") {
  token_verifier v{hs_settings()};
  auto token = forge(hs256(), claims_for("alice"), secret);
  REQUIRE(v.verify(token, now));
  auto flipped = token;
  auto& c = flipped[flipped.size() - 5];  // inside the signature, not its padding bits
  c = c == 'A' ? 'B' : 'A';
  CHECK(why_refused(v, flipped) == "bad signature");
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  auto swapped =
      token.substr(0, dot1 + 1) + b64url(claims_for("mallory").dump()) + token.substr(dot2);
  CHECK(why_refused(v, swapped) == "bad signature");
  CHECK(v.cached() == 1);
}

TEST_CASE("the cache holds at most twice its size, never a refused token, and can be off") {
  auto s = hs_settings();
  s.cache_size = 8;
  token_verifier v{s};
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i)
    tokens.push_back(forge(hs256(), claims_for("u" + std::to_string(i)), secret));
  for (auto& t : tokens) REQUIRE(v.verify(t, now));
  CHECK(v.cached() <= 16);
  CHECK(v.cached() >= 8);
  auto before = v.cached();
  for (int i = 0; i < 100; ++i)
    REQUIRE_FALSE(v.verify(forge(hs256(), claims_for("x" + std::to_string(i)), secret + "x"), now));
  CHECK(v.cached() == before);
  // A token forgotten long ago is simply checked again.
  auto first = v.verify(tokens.front(), now);
  REQUIRE(first);
  CHECK(first.who->subject == "u0");

  s.cache_size = 0;
  token_verifier uncached{s};
  REQUIRE(uncached.verify(tokens.front(), now));
  REQUIRE(uncached.verify(tokens.front(), now));
  CHECK(uncached.cached() == 0);
  s.cache_size = max_cache_size + 1;
  CHECK_THROWS_WITH(token_verifier{s}, Catch::Contains("cache_size"));
}

TEST_CASE("many threads verifying the same tokens all get the same answers") {
  auto s = hs_settings();
  s.cache_size = 4;  // small, so generations turn over while the threads run
  token_verifier v{s};
  std::vector<std::string> tokens;
  for (int i = 0; i < 12; ++i)
    tokens.push_back(forge(hs256(), claims_for("t" + std::to_string(i)), secret));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3000; ++i) {
        auto k = static_cast<std::size_t>((i * 7 + t) % 12);
        auto answer = v.verify(tokens[k], now);
        if (!answer || answer.who->subject != "t" + std::to_string(k)) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);
  CHECK(v.cached() <= 8);
}
