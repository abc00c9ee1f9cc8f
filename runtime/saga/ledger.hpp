// A saga participant's ledger: each step's idempotency key with its first answer, written in
// the same transaction as the step's state change and outbox events (call these inside the
// store's batch, see storage/write_batch.hpp). So:
//  - a duplicated or retried step gets the first answer and takes no second effect;
//  - a repeated compensation likewise;
//  - a compensation that overtakes its step (reordering) leaves a tombstone, and the late
//    step then does nothing and answers errc::compensated.
// Answers are stored as CAF-serialized messages (the value or the error), so any protocol
// type registered with the actor system can be an answer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>

#include "runtime/core/error.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::saga {

void migrate_ledger(sqlite::database& db);

struct ledger_entry {
  bool tombstone = false;    // the step's compensation came first; the step must do nothing
  std::vector<char> answer;  // serialized caf::message; empty for a tombstone
};

std::optional<ledger_entry> find_entry(sqlite::database& db, const std::string& key);
void record_entry(sqlite::database& db, const std::string& key, const ledger_entry& entry);

// Steps and compensations must be repeatable, so they must carry a key: the refusal of one
// that has none (empty when `key` is set).
caf::error require_key(const std::string& key);

// The key under which a step's compensation is recorded.
inline std::string compensation_key(const std::string& step_key) {
  return step_key + "#undo";
}

namespace detail {

template <class T>
std::vector<char> serialize_answer(caf::actor_system& sys, const caf::expected<T>& answer) {
  auto msg = answer ? caf::make_message(*answer) : caf::make_message(answer.error());
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (auto err = sink(msg)) throw std::runtime_error("ledger: cannot serialize an answer");
  return buf;
}

template <class T>
caf::expected<T> deserialize_answer(caf::actor_system& sys, const std::vector<char>& buf) {
  caf::message msg;
  caf::binary_deserializer source{sys, buf};
  if (auto err = source(msg)) throw std::runtime_error("ledger: cannot read a recorded answer");
  if (msg.match_elements<T>()) return msg.get_as<T>(0);
  if (msg.match_elements<caf::error>()) return msg.get_as<caf::error>(0);
  throw std::runtime_error("ledger: a recorded answer has an unexpected type");
}

}  // namespace detail

// A step under `key`: the recorded answer when it ran before; errc::compensated when its
// compensation came first; otherwise runs `effect() -> caf::expected<T>` and records its
// answer, value or rejection alike (a rejection repeated is the same rejection). Any other
// error (a transient failure: the effect did not happen) is not recorded, so a retry runs
// the effect again.
template <class T, class Effect>
caf::expected<T> step_once(sqlite::database& db, caf::actor_system& sys, const std::string& key,
                           Effect effect) {
  if (auto missing = require_key(key)) return missing;
  if (auto entry = find_entry(db, key)) {
    if (entry->tombstone)
      return make_error(errc::compensated,
                        "this step was compensated before it arrived; nothing was done");
    return detail::deserialize_answer<T>(sys, entry->answer);
  }
  caf::expected<T> answer = effect();
  if (answer || describe(answer.error()).rejection())
    record_entry(db, key, {false, detail::serialize_answer(sys, answer)});
  return answer;
}

// The compensation of the step under `step_key`: the recorded answer when it ran before;
// otherwise `undo() -> caf::expected<T>` when the step took effect, or `nothing() -> T`
// plus a tombstone when the step has not arrived (yet).
template <class T, class Undo, class Nothing>
caf::expected<T> compensate_once(sqlite::database& db, caf::actor_system& sys,
                                 const std::string& step_key, Undo undo, Nothing nothing) {
  if (auto missing = require_key(step_key)) return missing;
  auto key = compensation_key(step_key);
  if (auto entry = find_entry(db, key)) return detail::deserialize_answer<T>(sys, entry->answer);
  caf::expected<T> answer{caf::error{}};
  auto step = find_entry(db, step_key);
  if (step) {
    answer = undo();
  } else {
    record_entry(db, step_key, {true, {}});
    answer = nothing();
  }
  record_entry(db, key, {false, detail::serialize_answer(sys, answer)});
  return answer;
}

}  // namespace troupe::saga
