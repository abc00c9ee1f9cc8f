// The saga log: one row per saga instance in the owning capability's SQLite file, written
// before each step is sent (state, step, attempts, last error, the instance's data). The
// saga actor writes it through the owner's store, which handles the messages below next to
// its own (see log_handlers), inside its group-committed batch: a save is answered once it
// is on disk.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/message_handler.hpp>
#include <caf/meta/type_name.hpp>

#include "runtime/core/call_context.hpp"
#include "runtime/storage/sqlite.hpp"

namespace troupe::events {
class store_core;
}

namespace troupe::saga {

// running: steps going forward; compensating: undoing; stuck: a compensation keeps failing
// (still retried) or the definition is unknown (not touched); done: final, see outcome.
inline constexpr const char* state_running = "running";
inline constexpr const char* state_compensating = "compensating";
inline constexpr const char* state_stuck = "stuck";
inline constexpr const char* state_done = "done";

struct saga_record {
  std::string id;
  std::string definition;
  std::int32_t version = 0;
  std::int32_t step = 0;  // index of the step being run or compensated
  // Going forward, the furthest step that may have been sent under this row: `step`, or a
  // later pipelined step (saga.hpp step::pipelined) sent without a row of its own.
  std::int32_t reach = 0;
  std::string step_name;
  std::string state;          // one of the above
  std::string outcome;        // "completed" or "compensated" once done
  std::int32_t attempts = 0;  // of the current step or compensation
  std::string last_error;
  std::string data;   // JSON: inputs and step results
  std::string reply;  // JSON: the final answer, once done
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, saga_record& x) {
  return f(caf::meta::type_name("troupe.saga_record"), x.id, x.definition, x.version, x.step,
           x.reach, x.step_name, x.state, x.outcome, x.attempts, x.last_error, x.data, x.reply,
           x.created_at_ms, x.updated_at_ms);
}

// To the owner's store. Each answers after the commit.
struct save_saga {  // -> bool
  saga_record record;
};
struct list_sagas {  // -> std::vector<saga_record>, newest first; empty state: any
  std::string state;
  std::int32_t limit = 100;
};
struct find_saga {  // -> saga_record, or not_found
  std::string id;
};
struct unfinished_sagas {};  // -> std::vector<saga_record>: every saga not done
// Runs local step `step` (saga.hpp step::local) of next.definition/next.version on `data`
// under `key`; when it succeeds, writes `next` with the step's result merged into its data,
// in the same transaction. -> std::string: the result (a JSON object), or the step's error.
struct run_local_step {
  saga_record next;
  std::int32_t step = 0;
  std::string data;
  std::string key;
  trace_parent trace;  // the step's span: the store's transaction hangs under it
};

// Runs the fallback of read-only step `step` of definition/version (saga.hpp step::fallback)
// on `data`, because the step's call failed with `cause`; writes nothing.
// -> std::string: the result (a JSON object), or the fallback's error.
struct run_fallback {
  std::string definition;
  std::int32_t version = 0;
  std::int32_t step = 0;
  std::string data;
  std::string key;
  trace_parent trace;
  caf::error cause;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_fallback& x) {
  return f(caf::meta::type_name("troupe.run_fallback"), x.definition, x.version, x.step, x.data,
           x.key, x.trace, x.cause);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, save_saga& x) {
  return f(caf::meta::type_name("troupe.save_saga"), x.record);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_sagas& x) {
  return f(caf::meta::type_name("troupe.list_sagas"), x.state, x.limit);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_saga& x) {
  return f(caf::meta::type_name("troupe.find_saga"), x.id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unfinished_sagas&) {
  return f(caf::meta::type_name("troupe.unfinished_sagas"));
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_local_step& x) {
  return f(caf::meta::type_name("troupe.run_local_step"), x.next, x.step, x.data, x.key, x.trace);
}

void migrate_saga_log(sqlite::database& db);
void save(sqlite::database& db, const saga_record& r);
std::optional<saga_record> find(sqlite::database& db, const std::string& id);
std::vector<saga_record> list(sqlite::database& db, const std::string& state, std::int32_t limit);
std::vector<saga_record> unfinished(sqlite::database& db);

class registry;

// The store's handlers for the messages above (the file must be migrated). `local_steps`
// holds the definitions whose local steps this store runs; without it, run_local_step is
// refused.
caf::message_handler log_handlers(events::store_core& core,
                                  std::shared_ptr<const registry> local_steps = nullptr);

inline constexpr std::int32_t max_list_limit = 1000;

}  // namespace troupe::saga
