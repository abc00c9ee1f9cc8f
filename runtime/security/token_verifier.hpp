// Bearer tokens: JSON Web Tokens (RFC 7519) checked the way RFC 8725 asks. The gateway
// verifies each request's token with one of these; `troupe token` mints them.
//
// What is checked, in this order, before anything in the token is believed:
//  - the shape: three base64url segments, at most max_token_bytes, JSON objects nested at most
//    a few levels;
//  - the header's `alg` is on the allowlist (never `none`; an HS algorithm is refused when a
//    public key is configured, and RS/ES ones when a secret is);
//  - the signature: HMAC compared in constant time (CRYPTO_memcmp), RSA and ECDSA with
//    cpp-jwt's PEM verifier;
//  - then the claims: `exp` required (cpp-jwt accepts tokens without it), `exp` and `nbf`
//    within the leeway, `iss` when configured, `aud` (a string or an array) holding the
//    configured audience, or absent when none is configured, `sub` a non-empty string.
// Duplicate JSON member names are refused. verify() never throws.
// No CAF, Beast or SQLite here: plain C++ over OpenSSL, cpp-jwt and nlohmann_json.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::security {

inline constexpr std::size_t max_token_bytes = 8192;
inline constexpr std::size_t min_secret_bytes = 32;
inline constexpr std::size_t max_cache_size = 100000;

// Attacker-chosen text (a token's alg, subject) for a log line: printable ASCII only, at
// most `max` bytes, anything else as '?', so that a line stays one line.
std::string printable(std::string_view text, std::size_t max = 32);

struct token_settings {
  // The allowlist: HS256, HS384, HS512 (with `secret`), RS256, RS384, RS512, ES256, ES384,
  // ES512 (with `public_key_pem`). One family only.
  std::vector<std::string> algorithms{"HS256"};
  std::string secret;          // at least min_secret_bytes
  std::string public_key_pem;  // "-----BEGIN PUBLIC KEY-----..."
  std::string issuer;          // checked when not empty
  std::string audience;        // checked when not empty
  std::chrono::seconds leeway{30};
  // Verified tokens remembered (see token_verifier::verify); 0 turns the cache off.
  std::size_t cache_size = 1024;
};

// Who a verified token speaks for.
struct principal {
  std::string subject;
  std::vector<std::string> scopes;  // from "scope" (space-separated) or "scp" (an array)
  std::int64_t expires_at = 0;      // seconds since the epoch
  bool has_scope(std::string_view scope) const;
};

// A token's verdict: the principal, or why it was refused. The reason is for the server's
// log; a client learns only that its token is not valid.
struct verdict {
  std::optional<principal> who;
  std::string why;
  explicit operator bool() const { return who.has_value(); }
};

class token_verifier {
 public:
  // Throws std::invalid_argument naming what is wrong: an unknown or mixed allowlist, a
  // secret shorter than min_secret_bytes, a missing or unreadable public key, or one that does
  // not fit an allowed algorithm (RSA under 2048 bits, an EC key on another curve).
  explicit token_verifier(token_settings settings);

  ~token_verifier();
  token_verifier(token_verifier&&) noexcept;

  // `now` in seconds since the epoch. Safe to call from many threads at once.
  // A token that passed every check is remembered, keyed by its SHA-256, so a client that
  // sends the same token on every request pays for parsing and the signature once (as
  // Envoy's jwt_authn cache does); on each later use only the time checks (exp, nbf) are
  // redone. Refused tokens are never remembered, and at most 2 x cache_size are kept.
  verdict verify(std::string_view token, std::int64_t now) const;

  // How many verified tokens are remembered now.
  std::size_t cached() const;

  const token_settings& settings() const { return settings_; }

 private:
  class verified_cache;

  verdict check(std::string_view token, std::int64_t now, std::int64_t& not_before) const;

  token_settings settings_;
  bool symmetric_ = true;
  std::unique_ptr<verified_cache> cache_;
};

// A token for `who` signed with the settings' first algorithm, which must be an HS one (dev
// mode and `troupe token` hold the secret; asymmetric keys are minted elsewhere). Claims:
// sub, scope (when any), iat, exp = now + ttl, and iss/aud when configured.
std::string mint_token(const token_settings& settings, const principal& who, std::int64_t now,
                       std::chrono::seconds ttl);

}  // namespace troupe::security
