// The users capability's SQLite store. Blocking; used only by the store actor.
#pragma once

#include <optional>
#include <string>

#include "actors/users/users_protocol.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::users {

class user_store {
 public:
  explicit user_store(const std::string& path);
  // False when the id is taken; nothing is written then.
  bool insert(const user& u);
  std::optional<user> find(const std::string& id);

 private:
  sqlite::database db_;
};

}  // namespace troupe::users
