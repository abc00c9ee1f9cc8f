// HTTPS for tests: one request per connection, checking the server's certificate against a
// CA file and the host name, as a careful client would; and the test certificate authority
// (deploy/make-test-ca.sh).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

namespace troupe::test {

struct https_options {
  std::string ca_file;                  // trusted authority (PEM); empty: verify nothing
  std::string host_name = "localhost";  // the name the certificate must carry (SNI too)
  bool max_tls_1_2 = false;             // a client that speaks at most TLS 1.2
};

// Sends one request with admin_token() unless `headers` carry an Authorization. Throws
// std::runtime_error when the connection or the handshake fails (the message says which).
http_result https_request(const std::string& where, const https_options& options,
                          const std::string& method, const std::string& target,
                          const std::string& body = {},
                          std::vector<std::pair<std::string, std::string>> headers = {});

// Runs deploy/make-test-ca.sh in `dir` for `names`: dir/ca.pem, dir/NAME.pem, dir/NAME.key.
void make_test_ca(const temp_dir& dir, const std::vector<std::string>& names);

}  // namespace troupe::test
