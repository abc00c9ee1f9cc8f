// The JSON form of the Order aggregate's events and state, as they are stored (the event
// store, snapshots) and as subscribers (the read model) read them.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/users/users_protocol.hpp"
#include "domain/orders/order.hpp"
#include "runtime/events/event.hpp"

namespace troupe::orders {

nlohmann::json event_payload(const domain::orders::event& e);
// nullopt for a type this binary does not know (a newer writer): the reader skips it.
// Throws std::invalid_argument naming the type for a payload that is not that event's JSON
// (a corrupted store or a bug: never skipped silently).
std::optional<domain::orders::event> event_from(const std::string& type,
                                                const nlohmann::json& payload);

// What orders keeps of a customer: users' user_created event; nullopt for another event, and
// for one whose payload does not hold a string name and email (it is skipped: users owns its
// events, and a customer without them is checked against users itself).
std::optional<users::user_created> customer_from(const events::event_envelope& e);

nlohmann::json order_state_json(const domain::orders::order& o);
domain::orders::order order_state_from(const nlohmann::json& j);

nlohmann::json lines_json(const std::vector<domain::orders::line>& lines);
std::vector<domain::orders::line> lines_from(const nlohmann::json& j);

}  // namespace troupe::orders
