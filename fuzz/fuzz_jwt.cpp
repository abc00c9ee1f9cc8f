// A bearer token as an attacker writes it, against the verifiers the gateway builds: HS256
// with a secret, and ES256 with a public key (so algorithm confusion is reachable). Every
// token is either accepted with a principal or refused with a reason; verify() never throws
// and nothing crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/security/token_verifier.hpp"

using namespace troupe::security;

namespace {

const char* const public_key =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECFWiHTtD5vcwKDkWXsulSHx1WpIQ\n"
    "SA9cM3DfN/hE+0vc+gjPXrWfJnnJL55Ktd0kntwypbXd2wFlcDzzJeGIpw==\n"
    "-----END PUBLIC KEY-----\n";

token_verifier make(std::vector<std::string> algorithms, bool symmetric) {
  token_settings s;
  s.algorithms = std::move(algorithms);
  if (symmetric)
    s.secret = "fuzzing-secret-0123456789-abcdefghijklmnop";
  else
    s.public_key_pem = public_key;
  s.issuer = "https://issuer.example";
  s.audience = "shop";
  return token_verifier{s};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const token_verifier hs = make({"HS256"}, true);
  static const token_verifier es = make({"ES256"}, false);
  std::string_view token{reinterpret_cast<const char*>(data), size};
  for (auto* v : {&hs, &es}) {
    auto verdict = v->verify(token, 1'800'000'000);
    if (verdict && verdict.who->subject.empty()) __builtin_trap();  // accepted without a subject
    if (!verdict && verdict.why.empty()) __builtin_trap();          // refused without a reason
  }
  return 0;
}
