// Domain events defined once, as types, by the capability that produces them, in its
// protocol header: the type name and the fields, with their JSON (the envelope's payload) in
// the capability's own code. Producers append them typed, and subscribers read them typed:
//
//   struct user_created {                             // users_protocol.hpp
//     static constexpr const char* type = "UserCreated";
//     std::string name;
//     std::string email;
//   };
//   void to_json(nlohmann::json&, const user_created&);    // beside it, defined in the .cpp
//   void from_json(const nlohmann::json&, user_created&);
//
//   events::append(db, events::envelope_of(user_created{...}, "users", id, trace_id));
//   if (auto created = events::event_as<users::user_created>(envelope)) ...
//
// Include this where events are made or read, not in protocol headers: it brings nlohmann's
// full header.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/events/event.hpp"

namespace troupe::events {

// The envelope of `event`, produced by `source` for `aggregate_id` under `trace_id`; the
// outbox gives it its id, offset, sequence and time when appended.
template <class Event>
event_envelope envelope_of(const Event& event, std::string source, std::string aggregate_id,
                           std::string trace_id) {
  event_envelope out;
  out.type = Event::type;
  out.source = std::move(source);
  out.aggregate_id = std::move(aggregate_id);
  out.trace_id = std::move(trace_id);
  out.payload = nlohmann::json(event).dump();
  return out;
}

// The `Event` an envelope carries; nullopt when it carries another type. Throws
// std::invalid_argument naming the type when the payload is not that event's JSON (a
// corrupted store or a writer's bug): the subscriber decides whether to skip it, never
// this function silently.
template <class Event>
std::optional<Event> event_as(const event_envelope& e) {
  if (e.type != Event::type) return std::nullopt;
  auto payload = nlohmann::json::parse(e.payload, nullptr, false);
  if (!payload.is_object())
    throw std::invalid_argument(std::string(Event::type) + " " + e.id +
                                ": the payload is not a JSON object");
  try {
    return payload.get<Event>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(std::string(Event::type) + " " + e.id +
                                ": the payload lacks a field of the event, or has one of "
                                "another type");
  }
}

}  // namespace troupe::events
