// host:port, as topology files and flags write network addresses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace troupe {

struct address {
  std::string host;
  std::uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

// Parses "host:port" (port 0..65535); nullopt when malformed.
std::optional<address> parse_address(const std::string& text);

// Whether a host names this machine only: localhost, 127.0.0.0/8, ::1.
bool is_loopback(const std::string& host);

}  // namespace troupe
