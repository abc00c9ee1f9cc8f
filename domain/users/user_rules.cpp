#include "domain/users/user_rules.hpp"

#include <algorithm>
#include <cstdio>

namespace troupe::domain::users {

namespace {

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// Counts UTF-8 code points, so the length limit means characters, not bytes.
std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

bool valid_user_id(std::string_view id) {
  return !id.empty() && id.size() <= max_id_length && std::all_of(id.begin(), id.end(), is_id_char);
}

bool plausible_email(std::string_view email) {
  if (email.size() < 3 || email.size() > max_email_length) return false;
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos)
    return false;
  for (unsigned char c : email)
    if (c == ' ' || is_control(c)) return false;
  auto domain = email.substr(at + 1);
  auto dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
  return domain.find("..") == std::string_view::npos;
}

std::optional<violation> check_new_user(const user& candidate) {
  if (!candidate.id.empty() && !valid_user_id(candidate.id))
    return violation{"id", "must be 1 to 64 characters of letters, digits, '-' or '_'"};
  if (candidate.name.empty() || blank(candidate.name))
    return violation{"name", "must not be empty"};
  if (code_points(candidate.name) > max_name_length)
    return violation{"name", "must be at most 200 characters"};
  if (std::any_of(candidate.name.begin(), candidate.name.end(),
                  [](char c) { return is_control(static_cast<unsigned char>(c)); }))
    return violation{"name", "must not contain control characters"};
  if (!plausible_email(candidate.email))
    return violation{"email", "must be a plausible e-mail address like name@example.com"};
  return std::nullopt;
}

std::string make_user_id(std::uint64_t entropy) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "u-%016llx", static_cast<unsigned long long>(entropy));
  return buf;
}

}  // namespace troupe::domain::users
