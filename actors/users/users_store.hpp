// The users capability's table. Blocking; used only by its store actor, inside its batch.
#pragma once

#include <optional>
#include <string>

#include "actors/users/users_protocol.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::users {

void migrate_users(sqlite::database& db);
// False when the id is taken; nothing is written then.
bool insert_user(sqlite::database& db, const user& u);
std::optional<user> find_user(sqlite::database& db, const std::string& id);

}  // namespace troupe::users
