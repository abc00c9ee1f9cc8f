#include "runtime/core/address.hpp"

#include <algorithm>
#include <cctype>

namespace troupe {

std::optional<address> parse_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  auto port_text = text.substr(colon + 1);
  if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                           [](unsigned char c) { return std::isdigit(c) != 0; }))
    return std::nullopt;
  auto port = std::stoul(port_text);
  if (port > 65535) return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.find_first_of(" /\t") != std::string::npos) return std::nullopt;
  return address{host, static_cast<std::uint16_t>(port)};
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace troupe
