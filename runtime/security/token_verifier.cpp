#include "runtime/security/token_verifier.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <jwt/jwt.hpp>
#include <nlohmann/json.hpp>

#include "runtime/core/json.hpp"

namespace troupe::security {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_nesting = 8;
constexpr std::size_t max_subject_bytes = 256;
constexpr std::size_t max_scopes = 64;
constexpr std::size_t max_scope_bytes = 128;

const EVP_MD* hmac_digest(std::string_view alg) {
  if (alg == "HS256") return EVP_sha256();
  if (alg == "HS384") return EVP_sha384();
  if (alg == "HS512") return EVP_sha512();
  return nullptr;
}

bool asymmetric(std::string_view alg) {
  return alg == "RS256" || alg == "RS384" || alg == "RS512" || alg == "ES256" || alg == "ES384" ||
         alg == "ES512";
}

constexpr char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view s) {
  std::string out;
  out.reserve((s.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  for (; i + 2 < s.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out += base64url_alphabet[(v >> shift) & 63];
  }
  if (s.size() - i == 1) {
    unsigned v = byte(i) << 16;
    for (int shift : {18, 12}) out += base64url_alphabet[(v >> shift) & 63];
  } else if (s.size() - i == 2) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    for (int shift : {18, 12, 6}) out += base64url_alphabet[(v >> shift) & 63];
  }
  return out;
}

// Strict: only the canonical encoding of some bytes decodes (cpp-jwt's decoder pads and
// accepts more; it only ever sees what this one accepted), so a changed character always
// changes the bytes. (ECDSA signatures still have two valid forms, so the same claims can
// come as two different tokens: never use a token's bytes to detect replays. The cache of
// verified tokens may key on them: the second form is just a second entry.)
std::optional<std::string> base64url_decode(std::string_view s) {
  if (s.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(s.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (unsigned char c : s) {
    auto at = std::strchr(base64url_alphabet, c);
    if (c == 0 || !at) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(at - base64url_alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (base64url_encode(out) != s) return std::nullopt;
  return out;
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(md, key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len))
    throw std::runtime_error("HMAC failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool pem_verify(std::string_view alg, std::string_view key, std::string_view signed_part,
                std::string_view signature) {
  jwt::verify_result_t r;
  if (alg == "RS256")
    r = jwt::PEMSign<jwt::algo::RS256>::verify(key, signed_part, signature);
  else if (alg == "RS384")
    r = jwt::PEMSign<jwt::algo::RS384>::verify(key, signed_part, signature);
  else if (alg == "RS512")
    r = jwt::PEMSign<jwt::algo::RS512>::verify(key, signed_part, signature);
  else if (alg == "ES256")
    r = jwt::PEMSign<jwt::algo::ES256>::verify(key, signed_part, signature);
  else if (alg == "ES384")
    r = jwt::PEMSign<jwt::algo::ES384>::verify(key, signed_part, signature);
  else if (alg == "ES512")
    r = jwt::PEMSign<jwt::algo::ES512>::verify(key, signed_part, signature);
  else
    return false;
  return r.first && !r.second;
}

// A segment as a JSON object, or nothing.
std::optional<json> json_segment(std::string_view segment) {
  auto decoded = base64url_decode(segment);
  if (!decoded) return std::nullopt;
  auto& text = *decoded;
  if (json_nesting_depth(text, max_nesting + 1) > max_nesting) return std::nullopt;
  // Duplicate member names are refused: issuers and verifiers may read them differently.
  std::vector<std::vector<std::string>> seen;  // member names per open object
  bool duplicate = false;
  json::parser_callback_t check = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start)
      seen.emplace_back();
    else if (event == json::parse_event_t::object_end && !seen.empty())
      seen.pop_back();
    else if (event == json::parse_event_t::key && !seen.empty() && parsed.is_string()) {
      auto& names = seen.back();
      auto name = parsed.get<std::string>();
      if (std::find(names.begin(), names.end(), name) != names.end()) duplicate = true;
      names.push_back(std::move(name));
    }
    return true;
  };
  auto doc = json::parse(text, check, false);
  if (duplicate || doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

// A NumericDate (RFC 7519: seconds, possibly fractional), or nothing; `round_up` for a
// start (nbf), so that a fraction never lets a token in early.
std::optional<std::int64_t> numeric_date(const json& claims, const char* name,
                                         bool round_up = false) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  auto v = it->get<double>();
  if (!(v > -1e15 && v < 1e15)) return std::nullopt;  // NaN, infinities, absurd dates
  return static_cast<std::int64_t>(round_up ? std::ceil(v) : std::floor(v));
}

// The key type and size an asymmetric algorithm needs, or why the key does not fit.
std::string key_mismatch(EVP_PKEY* key, const std::string& alg) {
  auto id = EVP_PKEY_get_base_id(key);
  if (alg[0] == 'R') {
    if (id != EVP_PKEY_RSA) return alg + " needs an RSA key";
    if (EVP_PKEY_get_bits(key) < 2048) return alg + " needs an RSA key of at least 2048 bits";
    return {};
  }
  if (id != EVP_PKEY_EC) return alg + " needs an EC key";
  char curve[64] = {};
  std::size_t len = 0;
  EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &len);
  std::string want = alg == "ES256" ? "prime256v1" : alg == "ES384" ? "secp384r1" : "secp521r1";
  if (want != curve) return alg + " needs a key on curve " + want + ", not '" + curve + "'";
  return {};
}

verdict refuse(std::string why) {
  return {std::nullopt, std::move(why)};
}

using token_digest = std::array<unsigned char, 32>;

token_digest sha256(std::string_view bytes) {
  token_digest out{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size())
    throw std::runtime_error("SHA-256 failed");
  return out;
}

struct digest_hash {
  std::size_t operator()(const token_digest& d) const {
    std::size_t h;
    std::memcpy(&h, d.data(), sizeof h);  // a digest's bytes are already uniform
    return h;
  }
};

}  // namespace

// Two generations bound the cache to 2 x capacity with no per-entry bookkeeping: when the young map
// is full it becomes the old one (the previous old one is dropped), and a token found in the old
// map moves back to the young one, so tokens in use stay while ones not seen for a generation go.
class token_verifier::verified_cache {
 public:
  struct entry {
    principal who;
    std::int64_t not_before;
  };

  explicit verified_cache(std::size_t capacity) : capacity_(capacity) {}

  std::optional<entry> find(const token_digest& key) {
    map dropped;  // freed after the lock is released, not while every request waits for it
    std::lock_guard<std::mutex> guard{mutex_};
    if (auto it = young_.find(key); it != young_.end()) return it->second;
    auto it = old_.find(key);
    if (it == old_.end()) return std::nullopt;
    auto found = it->second;
    old_.erase(it);
    insert(key, found, dropped);
    return found;
  }

  void put(const token_digest& key, entry e) {
    map dropped;
    std::lock_guard<std::mutex> guard{mutex_};
    insert(key, std::move(e), dropped);
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return young_.size() + old_.size();
  }

 private:
  using map = std::unordered_map<token_digest, entry, digest_hash>;

  // The old generation a turnover drops goes to `dropped`, which the caller declared before
  // taking the lock, so up to `capacity_` entries are freed outside it.
  void insert(const token_digest& key, entry e, map& dropped) {
    if (young_.size() >= capacity_) {
      dropped.swap(old_);
      old_.swap(young_);
    }
    young_.insert_or_assign(key, std::move(e));
  }

  std::size_t capacity_;
  mutable std::mutex mutex_;
  map young_, old_;
};

token_verifier::~token_verifier() = default;
token_verifier::token_verifier(token_verifier&&) noexcept = default;

std::size_t token_verifier::cached() const {
  return cache_ ? cache_->size() : 0;
}

bool principal::has_scope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

token_verifier::token_verifier(token_settings settings) : settings_(std::move(settings)) {
  if (settings_.algorithms.empty())
    throw std::invalid_argument("algorithms: list at least one (HS256 by default)");
  bool any_hs = false, any_asymmetric = false;
  for (auto& alg : settings_.algorithms) {
    if (hmac_digest(alg))
      any_hs = true;
    else if (asymmetric(alg))
      any_asymmetric = true;
    else
      throw std::invalid_argument("algorithms: '" + alg +
                                  "' is not one of HS256, HS384, HS512, RS256, RS384, RS512, "
                                  "ES256, ES384, ES512");
  }
  // RFC 8725 2.1: a verifier that accepts both lets an attacker sign an HS token with the
  // public key as the secret.
  if (any_hs && any_asymmetric)
    throw std::invalid_argument(
        "algorithms: HS algorithms and RS/ES ones cannot be allowed together");
  symmetric_ = any_hs;
  if (symmetric_) {
    if (!settings_.public_key_pem.empty())
      throw std::invalid_argument(
          "algorithms: HS algorithms are refused when a public key is configured");
    if (settings_.secret.size() < min_secret_bytes)
      throw std::invalid_argument("the JWT secret is " + std::to_string(settings_.secret.size()) +
                                  " bytes; at least " + std::to_string(min_secret_bytes) +
                                  " are needed (e.g. `openssl rand -base64 48`)");
  } else {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio{
        BIO_new_mem_buf(settings_.public_key_pem.data(),
                        static_cast<int>(settings_.public_key_pem.size())),
        &BIO_free};
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{
        bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr, &EVP_PKEY_free};
    if (!key)
      throw std::invalid_argument("public_key_file: not a PEM public key (BEGIN PUBLIC KEY)");
    for (auto& alg : settings_.algorithms)
      if (auto why = key_mismatch(key.get(), alg); !why.empty())
        throw std::invalid_argument("public_key_file: " + why);
  }
  if (settings_.leeway.count() < 0 || settings_.leeway.count() > 3600)
    throw std::invalid_argument("leeway_s: must be from 0 to 3600");
  if (settings_.cache_size > max_cache_size)
    throw std::invalid_argument("cache_size: must be from 0 to " + std::to_string(max_cache_size));
  if (settings_.cache_size > 0) cache_ = std::make_unique<verified_cache>(settings_.cache_size);
}

verdict token_verifier::verify(std::string_view token, std::int64_t now) const {
  // Never throws: an allocation or OpenSSL failure refuses the token.
  try {
    auto not_before = std::numeric_limits<std::int64_t>::min();
    if (!cache_ || token.empty() || token.size() > max_token_bytes)
      return check(token, now, not_before);
    auto key = sha256(token);
    if (auto known = cache_->find(key)) {
      // What check() would say now: only its time checks can change their answer.
      auto leeway = settings_.leeway.count();
      if (now >= known->who.expires_at + leeway) return refuse("expired");
      if (now + leeway < known->not_before) return refuse("not valid yet (nbf)");
      return {std::move(known->who), {}};
    }
    auto answer = check(token, now, not_before);
    if (answer) cache_->put(key, {*answer.who, not_before});
    return answer;
  } catch (const std::exception& e) {
    return refuse(std::string("could not check the token: ") + e.what());
  }
}

verdict token_verifier::check(std::string_view token, std::int64_t now,
                              std::int64_t& not_before) const {
  if (token.empty()) return refuse("empty token");
  if (token.size() > max_token_bytes) return refuse("token longer than 8 KiB");
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return refuse("not three dot-separated segments");
  auto head = token.substr(0, dot1);
  auto body = token.substr(dot1 + 1, dot2 - dot1 - 1);
  auto signature = token.substr(dot2 + 1);
  if (head.empty() || body.empty() || signature.empty())
    return refuse("an empty segment (unsigned tokens are never accepted)");

  auto header = json_segment(head);
  if (!header) return refuse("the header is not a base64url JSON object");
  auto alg_it = header->find("alg");
  if (alg_it == header->end() || !alg_it->is_string()) return refuse("the header has no alg");
  auto alg = alg_it->get<std::string>();
  auto& allowed = settings_.algorithms;
  if (std::find(allowed.begin(), allowed.end(), alg) == allowed.end())
    return refuse("algorithm '" + printable(alg) + "' is not allowed");
  if (header->contains("crit")) return refuse("the header has crit extensions");

  // The signature before any claim is believed.
  auto signed_part = token.substr(0, dot2);
  if (symmetric_) {
    auto expected = hmac(hmac_digest(alg), settings_.secret, signed_part);
    auto given = base64url_decode(signature);
    if (!given || given->size() != expected.size() ||
        CRYPTO_memcmp(given->data(), expected.data(), expected.size()) != 0)
      return refuse("bad signature");
  } else if (!base64url_decode(signature) ||
             !pem_verify(alg, settings_.public_key_pem, signed_part, signature)) {
    return refuse("bad signature");
  }

  auto claims = json_segment(body);
  if (!claims) return refuse("the payload is not a base64url JSON object");
  auto leeway = settings_.leeway.count();
  auto exp = numeric_date(*claims, "exp");
  if (!exp) return refuse("no exp claim (a number)");
  if (now >= *exp + leeway) return refuse("expired");
  if (claims->contains("nbf")) {
    auto nbf = numeric_date(*claims, "nbf", true);
    if (!nbf) return refuse("nbf is not a number");
    if (now + leeway < *nbf) return refuse("not valid yet (nbf)");
    not_before = *nbf;
  }
  if (!settings_.issuer.empty()) {
    auto iss = claims->find("iss");
    if (iss == claims->end() || !iss->is_string() || iss->get<std::string>() != settings_.issuer)
      return refuse("wrong issuer");
  }
  if (settings_.audience.empty()) {
    // RFC 7519 4.1.3: a token meant for named audiences is not for a verifier that names none.
    if (claims->contains("aud")) return refuse("the token names an audience; none is configured");
  } else {
    auto aud = claims->find("aud");
    bool ours = false;
    if (aud != claims->end() && aud->is_string())
      ours = aud->get<std::string>() == settings_.audience;
    if (aud != claims->end() && aud->is_array())
      for (auto& a : *aud)
        ours = ours || (a.is_string() && a.get<std::string>() == settings_.audience);
    if (!ours) return refuse("wrong audience");
  }
  auto sub = claims->find("sub");
  if (sub == claims->end() || !sub->is_string() || sub->get<std::string>().empty() ||
      sub->get<std::string>().size() > max_subject_bytes)
    return refuse("no sub claim (a string of 1 to 256 bytes)");

  principal who;
  who.subject = sub->get<std::string>();
  who.expires_at = *exp;
  auto add_scope = [&](const std::string& s) {
    if (s.empty()) return true;
    if (s.size() > max_scope_bytes || who.scopes.size() >= max_scopes) return false;
    who.scopes.push_back(s);
    return true;
  };
  if (auto scope = claims->find("scope"); scope != claims->end()) {
    if (!scope->is_string()) return refuse("scope is not a string");
    auto text = scope->get<std::string>();
    for (std::size_t at = 0; at <= text.size();) {
      auto space = std::min(text.find(' ', at), text.size());
      if (!add_scope(text.substr(at, space - at))) return refuse("too many or too long scopes");
      at = space + 1;
    }
  } else if (auto scp = claims->find("scp"); scp != claims->end()) {
    if (!scp->is_array()) return refuse("scp is not an array");
    for (auto& s : *scp)
      if (!s.is_string() || !add_scope(s.get<std::string>()))
        return refuse("scp holds a non-string, or too many or too long scopes");
  }
  return {std::move(who), {}};
}

std::string mint_token(const token_settings& settings, const principal& who, std::int64_t now,
                       std::chrono::seconds ttl) {
  if (settings.algorithms.empty() || !hmac_digest(settings.algorithms.front()))
    throw std::invalid_argument("minting needs an HS algorithm and its secret");
  if (settings.secret.size() < min_secret_bytes)
    throw std::invalid_argument("the JWT secret is shorter than 32 bytes");
  if (ttl.count() < 1 || ttl.count() > 10LL * 366 * 24 * 3600)
    throw std::invalid_argument("ttl: from 1 s to 10 years");
  auto& alg = settings.algorithms.front();
  json header = {{"alg", alg}, {"typ", "JWT"}};
  json claims = {{"sub", who.subject}, {"iat", now}, {"exp", now + ttl.count()}};
  if (!who.scopes.empty()) {
    std::string scope;
    for (auto& s : who.scopes) scope += (scope.empty() ? "" : " ") + s;
    claims["scope"] = scope;
  }
  if (!settings.issuer.empty()) claims["iss"] = settings.issuer;
  if (!settings.audience.empty()) claims["aud"] = settings.audience;
  auto signed_part =
      base64url_encode(dump_json(header)) + "." + base64url_encode(dump_json(claims));
  return signed_part + "." + base64url_encode(hmac(hmac_digest(alg), settings.secret, signed_part));
}

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (unsigned char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? char(c) : '?';
  return out;
}

}  // namespace troupe::security
