// Business rules of the users capability: plain C++, no framework includes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe::domain::users {

inline constexpr std::size_t max_name_length = 200;
inline constexpr std::size_t max_email_length = 254;  // RFC 5321 path limit
inline constexpr std::size_t max_id_length = 64;

// A user. The same type travels in the users protocol (actors/users/users_protocol.hpp adds
// its serialization there), so the rules and the messages cannot drift apart.
struct user {
  std::string id;
  std::string name;
  std::string email;
  std::int64_t created_at_ms = 0;  // Unix epoch milliseconds, set when stored
};

// Why a command was refused: which field, and what is wrong with it.
struct violation {
  std::string field;
  std::string message;
};

// Ids are 1..64 characters of [A-Za-z0-9_-], so they are safe in URLs, logs and file names.
bool valid_user_id(std::string_view id);

// A plausible address: one '@', a non-empty local part, a dotted domain, no spaces or
// control characters. Deliverability is not something a syntax check can know.
bool plausible_email(std::string_view email);

// Checks a user about to be created; nullopt when every rule holds. An empty id is allowed
// (the capability assigns one).
std::optional<violation> check_new_user(const user& candidate);

// An id for a user created without one: "u-" and 16 hex digits of `entropy`.
std::string make_user_id(std::uint64_t entropy);

}  // namespace troupe::domain::users
