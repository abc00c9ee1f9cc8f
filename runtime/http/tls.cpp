#include "runtime/http/tls.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "runtime/http/tls_context.hpp"
#include "runtime/security/key_source.hpp"

namespace troupe {

namespace {

std::string openssl_reason() {
  auto code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

std::string hsts_value(const tls_settings& settings) {
  if (settings.hsts_max_age.count() <= 0) return {};
  auto out = "max-age=" + std::to_string(settings.hsts_max_age.count());
  if (settings.hsts_include_subdomains) out += "; includeSubDomains";
  return out;
}

std::shared_ptr<tls_context> load_tls_context(const tls_settings& settings,
                                              const std::string& prefix) {
  if (settings.key_file.empty())
    throw std::runtime_error(prefix + "key_file: a certificate needs its private key");
  security::check_key_file(settings.certificate_file, prefix + "certificate_file", false);
  security::check_key_file(settings.key_file, prefix + "key_file", true);
  auto out = std::make_shared<tls_context>();
  auto* ctx = out->ssl.native_handle();
  ERR_clear_error();
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  int floor = settings.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx, floor);
  if (SSL_CTX_use_certificate_chain_file(ctx, settings.certificate_file.c_str()) != 1)
    throw std::runtime_error(prefix + "certificate_file '" + settings.certificate_file +
                             "' is not a PEM certificate chain: " + openssl_reason());
  // The passphrase comes from the variable or not at all: never a prompt on a terminal,
  // which OpenSSL's default would show (and hang a service on).
  std::string passphrase;
  if (!settings.key_passphrase_env.empty()) {
    auto* value = std::getenv(settings.key_passphrase_env.c_str());
    if (!value || !*value)
      throw std::runtime_error(prefix + "key_passphrase_env: the variable " +
                               settings.key_passphrase_env + " is not set");
    passphrase = value;
  }
  auto from_variable = [](char* buf, int size, int, void* user) -> int {
    auto* given = static_cast<std::string*>(user);
    if (given->empty() || static_cast<int>(given->size()) > size) return -1;
    std::memcpy(buf, given->data(), given->size());
    return static_cast<int>(given->size());
  };
  std::unique_ptr<FILE, int (*)(FILE*)> file{std::fopen(settings.key_file.c_str(), "r"),
                                             &std::fclose};
  if (!file)
    throw std::runtime_error(prefix + "key_file '" + settings.key_file +
                             "': " + std::strerror(errno));
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key{
      PEM_read_PrivateKey(file.get(), nullptr, from_variable, &passphrase), &EVP_PKEY_free};
  if (!key)
    throw std::runtime_error(
        prefix + "key_file '" + settings.key_file + "' cannot be loaded" +
        (passphrase.empty()
             ? " (encrypted? then name its passphrase's variable in " + prefix +
                   "key_passphrase_env)"
             : std::string(" with the passphrase from " + settings.key_passphrase_env)) +
        ": " + openssl_reason());
  // Refuses a key that is not the certificate's (the certificate is loaded first).
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1)
    throw std::runtime_error(prefix + "key_file '" + settings.key_file +
                             "' is not the key of the certificate in '" +
                             settings.certificate_file + "': " + openssl_reason());
  out->hsts = hsts_value(settings);
  return out;
}

void check_node_certificate(const tls_settings& node, const std::string& ca_file) {
  auto loaded = load_tls_context(node, "security.tls.");
  security::check_key_file(ca_file, "security.tls.ca_file", false);
  auto* ctx = loaded->ssl.native_handle();
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1)
    throw std::runtime_error("security.tls.ca_file '" + ca_file +
                             "' is not a PEM certificate: " + openssl_reason());
  std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> check{X509_STORE_CTX_new(),
                                                                   &X509_STORE_CTX_free};
  if (!check || X509_STORE_CTX_init(check.get(), SSL_CTX_get_cert_store(ctx),
                                    SSL_CTX_get0_certificate(ctx), nullptr) != 1)
    throw std::runtime_error("security.tls: cannot check the certificate: " + openssl_reason());
  if (X509_verify_cert(check.get()) != 1)
    throw std::runtime_error("security.tls.certificate_file '" + node.certificate_file +
                             "' was not issued by the authority in '" + ca_file + "': " +
                             X509_verify_cert_error_string(X509_STORE_CTX_get_error(check.get())));
}

}  // namespace troupe
