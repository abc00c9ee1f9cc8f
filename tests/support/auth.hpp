// Bearer tokens for tests, minted with cpp-jwt's own signer: an implementation independent
// of troupe's (runtime/security), so a test passing does not mean both agree on a mistake.
//
// Every node a test starts gets TROUPE_JWT_SECRET = test_secret() (process.cpp) unless the
// test says otherwise, and every http_client sends admin_token() unless told otherwise.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::test {

const std::string& test_secret();  // 48 bytes

// HS256 over test_secret(): sub, scope (space-separated, when any), iat, exp = now + ttl.
std::string test_token(const std::string& subject, const std::vector<std::string>& scopes = {},
                       std::chrono::seconds ttl = std::chrono::hours{1});

// A token with the admin scope (sub "test-admin"), minted once per test process.
const std::string& admin_token();

// Base64url without padding (RFC 7515 section 2).
std::string base64url(const std::string& bytes);

// header.payload.signature exactly as given, signed by cpp-jwt's signer for the header's
// "alg": HS256/384/512 with a secret, RS256 or ES256 with a private key in PEM. Any other alg
// ("none", made-up ones) gets an empty signature. Throws when signing fails.
std::string forge_token(const nlohmann::json& header, const nlohmann::json& claims,
                        const std::string& key);

struct key_pair {
  std::string private_pem, public_pem;
};
// A fresh RSA-2048 or P-256 key pair (OpenSSL).
key_pair generate_key_pair(bool rsa);

}  // namespace troupe::test
