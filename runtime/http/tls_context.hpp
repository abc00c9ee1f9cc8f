// The definition behind tls.hpp's opaque tls_context, for the server and the loader only:
// it brings in Asio's OpenSSL headers, which nothing else should pay for.
#pragma once

#include <string>

#include <boost/asio/ssl/context.hpp>

namespace troupe {

struct tls_context {
  boost::asio::ssl::context ssl{boost::asio::ssl::context::tls_server};
  std::string hsts;  // the Strict-Transport-Security value; empty: none
};

}  // namespace troupe
