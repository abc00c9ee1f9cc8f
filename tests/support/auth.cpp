#include "tests/support/auth.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <jwt/jwt.hpp>

namespace troupe::test {

const std::string& test_secret() {
  static const std::string secret = "troupe-tests-secret-0123456789-abcdefghijklmnop";
  return secret;
}

std::string test_token(const std::string& subject, const std::vector<std::string>& scopes,
                       std::chrono::seconds ttl) {
  auto now = std::chrono::system_clock::now();
  jwt::jwt_object token{jwt::params::algorithm("HS256"), jwt::params::secret(test_secret())};
  token.add_claim("sub", subject).add_claim("iat", now).add_claim("exp", now + ttl);
  if (!scopes.empty()) {
    std::string joined;
    for (auto& s : scopes) joined += (joined.empty() ? "" : " ") + s;
    token.add_claim("scope", joined);
  }
  return token.signature();
}

const std::string& admin_token() {
  static const std::string token = test_token("test-admin", {"admin"}, std::chrono::hours{6});
  return token;
}

std::string base64url(const std::string& bytes) {
  auto text = jwt::base64_encode(bytes.data(), bytes.size());
  text.resize(jwt::base64_uri_encode(&text[0], text.size()));
  return text;
}

std::string forge_token(const nlohmann::json& header, const nlohmann::json& claims,
                        const std::string& key) {
  auto alg = header.value("alg", "none");
  auto part = base64url(header.dump()) + "." + base64url(claims.dump());
  jwt::sign_result_t signed_ = {std::string{}, std::error_code{}};
  if (alg == "HS256")
    signed_ = jwt::HMACSign<jwt::algo::HS256>::sign(key, part);
  else if (alg == "HS384")
    signed_ = jwt::HMACSign<jwt::algo::HS384>::sign(key, part);
  else if (alg == "HS512")
    signed_ = jwt::HMACSign<jwt::algo::HS512>::sign(key, part);
  else if (alg == "RS256")
    signed_ = jwt::PEMSign<jwt::algo::RS256>::sign(key, part);
  else if (alg == "ES256")
    signed_ = jwt::PEMSign<jwt::algo::ES256>::sign(key, part);
  else
    return part + ".";
  if (signed_.second) throw std::runtime_error("signing failed: " + signed_.second.message());
  return part + "." + base64url(signed_.first);
}

key_pair generate_key_pair(bool rsa) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{
      rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"), &EVP_PKEY_free};
  if (!key) throw std::runtime_error("key generation failed");
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    auto len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return out;
  };
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, key.get());
  return {to_string(priv), to_string(pub)};
}

}  // namespace troupe::test
