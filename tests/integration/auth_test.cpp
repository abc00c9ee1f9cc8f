// Bearer tokens at the gateway, from outside: forged and broken tokens, keys, `troupe token`,
// dev mode's own secret, scopes, and what one customer may see of another's.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>

#include "tests/support/auth.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/shop.hpp"

using namespace troupe::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json hs256() {
  return {{"alg", "HS256"}, {"typ", "JWT"}};
}

// A token as the configured issuer would make it for `sub`.
json good_claims(const std::string& sub) {
  return {{"sub", sub},
          {"iss", "troupe-test"},
          {"aud", "shop"},
          {"iat", unix_now()},
          {"exp", unix_now() + 600}};
}

http_result get_with(http_client& http, const std::string& target,
                     const std::string& authorization) {
  return http.request("GET", target, {}, {{"Authorization", authorization}});
}

void check_refused(http_result r, const std::string& what) {
  INFO(what << ": " << r.status << " " << r.body);
  CHECK(r.status == 401);
  CHECK(r.headers.count("www-authenticate") == 1);
  CHECK(r.headers["www-authenticate"].rfind("Bearer realm=\"troupe\"", 0) == 0);
  CHECK(json::parse(r.body)["error"]["code"] == "unauthenticated");
  // The client learns that the token is not valid, never why.
  CHECK(r.body.find("expired") == std::string::npos);
  CHECK(r.body.find("signature") == std::string::npos);
}

// Started with `variable` ("NAME=value") in the environment.
process_options with_env(std::string variable) {
  process_options out;
  out.env.push_back(std::move(variable));
  return out;
}

std::string flip_last_signature_bit(std::string token) {
  auto& c = token.back();
  c = c == 'A' ? 'B' : 'A';
  return token;
}

}  // namespace

TEST_CASE("forged and broken tokens are refused with 401, and none gets a 5xx") {
  temp_dir dir;
  cluster c{dir, one_node_plan(),
            R"("gateway": {"auth": {"issuer": "troupe-test", "audience": "shop"}})"};
  http_client http{c.http()};
  auto key = test_secret();
  auto good = forge_token(hs256(), good_claims("alice"), key);

  // The good token works: alice creates her own record and reads it.
  http.use_token(good);
  auto created = http.post_json("/api/users", R"({"name": "Alice", "email": "a@example.com"})");
  REQUIRE(created.status == 201);
  CHECK(json::parse(created.body)["id"] == "alice");
  CHECK(http.get("/api/users/alice").status == 200);
  http.use_token("");

  auto claims_without = [&](const char* claim) {
    auto c = good_claims("alice");
    c.erase(claim);
    return c;
  };
  auto claims_with = [&](const char* claim, json value) {
    auto c = good_claims("alice");
    c[claim] = std::move(value);
    return c;
  };
  auto rsa = generate_key_pair(true);
  auto dot1 = good.find('.'), dot2 = good.rfind('.');
  auto other = forge_token(hs256(), good_claims("mallory"), key);
  std::vector<std::pair<std::string, std::string>> refused = {
      {"no Authorization header", ""},
      {"alg none", "Bearer " + forge_token({{"alg", "none"}}, good_claims("alice"), key)},
      {"alg None with a valid HS256 signature",
       "Bearer " + forge_token({{"alg", "None"}}, good_claims("alice"), key) +
           good.substr(dot2 + 1)},
      {"RS256 when HS256 is configured",
       "Bearer " + forge_token({{"alg", "RS256"}}, good_claims("alice"), rsa.private_pem)},
      {"HS512 with the right key",
       "Bearer " + forge_token({{"alg", "HS512"}}, good_claims("alice"), key)},
      {"expired", "Bearer " + forge_token(hs256(), claims_with("exp", unix_now() - 3600), key)},
      {"not yet valid",
       "Bearer " + forge_token(hs256(), claims_with("nbf", unix_now() + 3600), key)},
      {"missing exp", "Bearer " + forge_token(hs256(), claims_without("exp"), key)},
      {"exp as a string", "Bearer " + forge_token(hs256(), claims_with("exp", "9999999999"), key)},
      {"wrong iss", "Bearer " + forge_token(hs256(), claims_with("iss", "someone-else"), key)},
      {"missing iss", "Bearer " + forge_token(hs256(), claims_without("iss"), key)},
      {"wrong aud", "Bearer " + forge_token(hs256(), claims_with("aud", "billing"), key)},
      {"aud array without ours",
       "Bearer " + forge_token(hs256(), claims_with("aud", {"billing", "crm"}), key)},
      {"missing sub", "Bearer " + forge_token(hs256(), claims_without("sub"), key)},
      {"wrong key", "Bearer " + forge_token(hs256(), good_claims("alice"), key + "x")},
      {"flipped signature bit", "Bearer " + flip_last_signature_bit(good)},
      {"payload swapped from another token",
       "Bearer " + good.substr(0, dot1) +
           other.substr(other.find('.'), other.rfind('.') - other.find('.')) + good.substr(dot2)},
      {"two segments", "Bearer " + good.substr(0, dot2)},
      {"four segments", "Bearer " + good + ".e30"},
      {"not base64url", "Bearer " + good.substr(0, dot1) + ".!!!" + good.substr(dot2)},
      {"empty token", "Bearer "},
      {"wrong scheme", "Basic " + good},
      {"no scheme", good},
      {"two spaces", "Bearer  " + good},
      {"9 KiB token", "Bearer " + std::string(9000, 'a')},
  };
  for (auto& [what, header] : refused) {
    auto r =
        header.empty() ? http.get("/api/users/alice") : get_with(http, "/api/users/alice", header);
    check_refused(r, what);
  }
  // Two Authorization headers, sent raw (a client library would merge them).
  raw_connection raw{c.http()};
  raw.send("GET /api/users/alice HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + good +
           "\r\nAuthorization: Bearer " + other + "\r\n\r\n");
  check_refused(raw.read(), "two Authorization headers");

  // Accepted: the scheme in any case, and aud as an array that holds ours.
  CHECK(get_with(http, "/api/users/alice", "bearer " + good).status == 200);
  CHECK(get_with(http, "/api/users/alice",
                 "Bearer " + forge_token(hs256(), claims_with("aud", {"crm", "shop"}), key))
            .status == 200);
  // `troupe token` mints with the key the node uses (here: the environment's secret).
  auto minted = run_command({troupe_binary(), "token", "--topology", c.topology_file(), "--node",
                             "dev", "--sub", "alice", "--ttl", "10m"},
                            30s);
  REQUIRE(minted.status == 0);
  auto token = minted.out.substr(0, minted.out.find('\n'));
  CHECK(minted.out == token + "\n");  // the token alone on stdout
  CHECK(get_with(http, "/api/users/alice", "Bearer " + token).status == 200);
  // Public routes need no token.
  CHECK(http.get("/health").status == 200);
  CHECK(http.get("/ready").status == 200);
}

TEST_CASE("with an RS256 public key, an HS256 token signed with that key is refused") {
  temp_dir dir;
  auto keys = generate_key_pair(true);
  dir.write("public.pem", keys.public_pem);
  cluster c{dir, one_node_plan(),
            R"("gateway": {"auth": {"algorithms": ["RS256"], "public_key_file": ")" +
                dir.file("public.pem") + R"("}})"};
  http_client http{c.http()};
  auto claims = json{{"sub", "test-admin"}, {"exp", unix_now() + 600}, {"scope", "admin"}};
  auto signed_rs = forge_token({{"alg", "RS256"}}, claims, keys.private_pem);
  CHECK(get_with(http, "/api/orders?customer=x", "Bearer " + signed_rs).status == 200);
  // The classic confusion: the public key, which anyone has, used as an HMAC secret.
  check_refused(
      get_with(http, "/api/orders", "Bearer " + forge_token(hs256(), claims, keys.public_pem)),
      "HS256 signed with the public key");
  check_refused(get_with(http, "/api/orders", "Bearer " + admin_token()), "HS256 with a secret");
  // Nothing to mint with: the private key is elsewhere.
  auto minted = run_command(
      {troupe_binary(), "token", "--topology", c.topology_file(), "--sub", "alice"}, 30s);
  CHECK(minted.status != 0);
  CHECK(minted.err.find("public key") != std::string::npos);
}

TEST_CASE("a weak secret, or none, stops the node at start and says why") {
  temp_dir dir;
  cluster c{dir, one_node_plan()};
  c.stop("dev");
  auto weak = c.launch("dev", with_env("TROUPE_JWT_SECRET=only-twenty-bytes-xx"));
  CHECK(weak->wait(30s) == 2);
  INFO(weak->err());
  CHECK(weak->err().find("at least 32") != std::string::npos);
  auto none = c.launch("dev", with_env("TROUPE_JWT_SECRET="));
  CHECK(none->wait(30s) == 2);
  INFO(none->err());
  CHECK(none->err().find("TROUPE_JWT_SECRET") != std::string::npos);
  // A secret file others may read is refused, as `troupe token` shows without a node.
  dir.write("secret", test_secret());
  ::chmod(dir.file("secret").c_str(), 0644);
  dir.write(
      "file.json",
      json{{"name", "t"},
           {"data_dir", dir.file("var")},
           {"nodes", {{"dev", {{"http", "127.0.0.1:0"}, {"capabilities", {"gateway", "users"}}}}}},
           {"capabilities", {{"gateway", {{"auth", {{"secret_file", dir.file("secret")}}}}}}}}
          .dump());
  auto mint = [&] {
    return run_command(
        {troupe_binary(), "token", "--topology", dir.file("file.json"), "--sub", "x"}, 30s);
  };
  auto readable = mint();
  CHECK(readable.status != 0);
  CHECK(readable.err.find("chmod 600") != std::string::npos);
  ::chmod(dir.file("secret").c_str(), 0600);
  auto minted = mint();
  CHECK(minted.status == 0);
  CHECK(minted.out.size() > 100);
}

TEST_CASE("dev mode makes its own secret, prints a token, and troupe token mints with it") {
  temp_dir dir;
  auto data = dir.file("data");
  // No secret in the environment: dev mode makes one under the data directory.
  troupe_node node({"--http", "127.0.0.1:0", "--data", data}, dir.path(), "dev",
                   with_env("TROUPE_JWT_SECRET="));
  struct stat st {};
  REQUIRE(::stat((data + "/dev/jwt-secret").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto out = node.process().out();
  auto at = out.find("  token   ");
  REQUIRE(at != std::string::npos);
  auto printed = out.substr(at + 10, out.find('\n', at) - at - 10);
  CHECK(out.find("curl -H 'Authorization: Bearer " + printed + "'") != std::string::npos);
  http_client http{node.http()};
  CHECK(get_with(http, "/api/orders?customer=x", "Bearer " + printed).status == 200);
  // The tests' own secret is not this node's.
  check_refused(get_with(http, "/api/orders", "Bearer " + admin_token()), "another secret");
  auto minted = run_command({"/usr/bin/env", "TROUPE_JWT_SECRET=", troupe_binary(), "token",
                             "--data", data, "--sub", "bob", "--scope", "inventory:write"},
                            30s);
  REQUIRE(minted.status == 0);
  auto bob = "Bearer " + minted.out.substr(0, minted.out.find('\n'));
  CHECK(http.request("PUT", "/api/inventory/sku-1",
                     R"({"quantity": 3, "price": 100, "currency": "EUR"})",
                     {{"Authorization", bob}, {"Content-Type", "application/json"}})
            .status == 200);
  CHECK(get_with(http, "/api/orders/stats", bob).status == 403);
  // Without an admin listener the sagas are on the API port: every customer's orders are in
  // them, so they need the admin scope.
  CHECK(http.get("/health").status == 200);  // public
  http.use_token("");
  check_refused(http.get("/sagas"), "/sagas without a token");
  CHECK(get_with(http, "/sagas", bob).status == 403);
  CHECK(get_with(http, "/sagas/s-nothing", bob).status == 403);
  CHECK(get_with(http, "/sagas", "Bearer " + printed).status == 200);
  // Bad flags name the flag.
  auto bad =
      run_command({troupe_binary(), "token", "--data", data, "--sub", "bob", "--ttl", "soon"}, 30s);
  CHECK(bad.status == 2);
  CHECK(bad.err.find("--ttl") != std::string::npos);
  auto no_sub = run_command({troupe_binary(), "token", "--data", data}, 30s);
  CHECK(no_sub.status == 2);
  CHECK(no_sub.err.find("--sub") != std::string::npos);
  CHECK(node.stop() == 0);
  // Restarted, the node keeps its secret: the printed token still works.
  troupe_node again({"--http", "127.0.0.1:0", "--data", data}, dir.path(), "dev-2",
                    with_env("TROUPE_JWT_SECRET="));
  http_client http2{again.http()};
  CHECK(get_with(http2, "/api/orders?customer=x", "Bearer " + printed).status == 200);
  CHECK(again.stop() == 0);
}

TEST_CASE("a customer sees only their own user record, orders and payments") {
  temp_dir dir;
  cluster c{dir, three_node_plan()};
  shop_client admin{c.http()};  // the support client's admin token
  REQUIRE(admin.set_stock("sku-1", 100, 250).status == 200);
  http_client alice{c.http()}, bob{c.http()};
  alice.use_token(test_token("alice"));
  bob.use_token(test_token("bob"));
  auto user = [](const char* name) {
    return json{{"name", name}, {"email", std::string(name) + "@example.com"}}.dump();
  };
  REQUIRE(alice.post_json("/api/users", user("Alice")).status == 201);
  REQUIRE(bob.post_json("/api/users", user("Bob")).status == 201);
  // Not a record for someone else.
  CHECK(
      alice.post_json("/api/users", R"({"id": "carol", "name": "C", "email": "c@x.io"})").status ==
      403);
  auto order = [](const char* customer) {
    return json{{"customer", customer}, {"items", {{{"sku", "sku-1"}, {"quantity", 1}}}}}.dump();
  };
  auto placed_a = alice.post_json("/api/orders", order("alice"));
  auto placed_b = bob.post_json("/api/orders", order("bob"));
  REQUIRE(placed_a.status == 201);
  REQUIRE(placed_b.status == 201);
  auto order_a = json::parse(placed_a.body)["id"].get<std::string>();
  auto order_b = json::parse(placed_b.body)["id"].get<std::string>();
  // Not an order for someone else.
  CHECK(alice.post_json("/api/orders", order("bob")).status == 403);

  auto a_view = alice.get("/api/orders/" + order_a);
  REQUIRE(a_view.status == 200);
  auto payment_a = json::parse(a_view.body)["payment"].get<std::string>();
  auto b_view = json::parse(bob.get("/api/orders/" + order_b).body);
  auto payment_b = b_view["payment"].get<std::string>();
  REQUIRE_FALSE(payment_b.empty());

  // Another customer's objects are not found, exactly as ids that do not exist.
  CHECK(alice.get("/api/users/alice").status == 200);
  CHECK(alice.get("/api/users/bob").status == 404);
  CHECK(alice.get("/api/orders/" + order_b).status == 404);
  CHECK(alice.get("/api/payments/" + payment_a).status == 200);
  CHECK(alice.get("/api/payments/" + payment_b).status == 404);
  CHECK(alice
            .request("POST", "/api/orders/" + order_b + "/items",
                     R"({"sku": "sku-1", "quantity": 1})", {{"Content-Type", "application/json"}})
            .status == 404);
  // Lists: their own only.
  // (The list is a read model, filled from events a moment after the order.)
  json page;
  CHECK(eventually(
      [&] {
        auto listed = alice.get("/api/orders");
        page = listed.status == 200 ? json::parse(listed.body) : json{};
        return page.contains("orders") && page["orders"].size() == 1;
      },
      10s));
  CHECK(page["orders"][0]["id"] == order_a);
  CHECK(alice.get("/api/orders?customer=bob").status == 403);
  // Scopes: setting stock and the shop's statistics are not for customers.
  auto stock = alice.request("PUT", "/api/inventory/sku-1", R"({"quantity": 1, "price": 1})",
                             {{"Content-Type", "application/json"}});
  CHECK(stock.status == 403);
  CHECK(stock.headers["www-authenticate"].find("insufficient_scope") != std::string::npos);
  CHECK(json::parse(stock.body)["error"]["code"] == "forbidden");
  CHECK(alice.get("/api/orders/stats").status == 403);
  CHECK(admin.stock("sku-1")["quantity"] == 98);  // the refused PUT changed nothing
  // The admin scope reads everyone's.
  CHECK(admin.http().get("/api/orders/" + order_b).status == 200);
  CHECK(admin.http().get("/api/payments/" + payment_a).status == 200);
  CHECK(admin.http().get("/api/users/bob").status == 200);
  CHECK(eventually(
      [&] {
        auto listed = admin.http().get("/api/orders?customer=bob");
        return listed.status == 200 && json::parse(listed.body)["orders"].size() == 1;
      },
      10s));
  CHECK(admin.http().get("/api/orders").status == 400);  // whose? the admin must say
}
