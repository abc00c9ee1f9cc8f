// The saga engine. A saga is a definition (name, version, ordered steps, each an actor
// request through the caller with its compensation) and an actor that runs one instance.
//
// Before each step or compensation is sent, the instance's progress is written to the
// owning capability's saga log (log.hpp) and is on disk. Every step and its compensation
// carry the same idempotency key, "<saga id>:<step name>", whatever the attempt, so a
// participant that records keys (ledger.hpp) gives a repeat the first answer and makes a
// compensation that overtook its step a tombstone.
//
// Going forward, a step that fails transiently (unavailable, timeouts, outcome unknown) is
// sent again with backoff, up to `max_attempts`; a rejection (a code whose saga_reaction is
// compensate, core/error.hpp: not found, a capability's out of stock) is never retried. Either ends
// the forward run and the completed steps are compensated in reverse (a step whose outcome is
// unknown is compensated too: its compensation is harmless if it never happened). Steps marked
// `retry_until_done` come after the point of no return: transient failures are retried without
// bound. Compensations are retried until they succeed; past `stuck_after` attempts the saga shows
// as stuck (log line, metric, saga state) while the retries go on.
//
// Three kinds of steps save log writes: a read-only step is not logged before it is sent (it
// has no effect to repeat or undo), a local step writes the next log row in the same
// transaction as its own effect (see step::local), and a pipelined step is named in the row
// written before the step ahead of it (its `reach`) and sent without a row of its own (see
// step::pipelined).
//
// The answer (await_atom) is given as soon as the outcome is certain: once a step marked
// `retry_until_done` is done and only such steps remain, the saga completes whatever
// happens, so the caller does not wait for the rest; the instance goes on until it is done.
//
// After a crash, resume() continues an instance from its last log row: the step it was at is
// sent again (same key: one effect), a compensation likewise. Until the resumed run passes the
// row's reach, a failure compensates from the reach: a pipelined step may have been sent.
//
// Failpoints "saga.<step>.before" (logged, not sent), "saga.<step>.after" (answered, not
// logged) and the same with ".undo" for compensations let tests stop a process (`exit`) or
// fail the saga actor (`crash`, `error`) at each point.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <nlohmann/json.hpp>

#include "runtime/calls/caller.hpp"
#include "runtime/cluster/directory_view.hpp"
#include "runtime/core/backoff.hpp"
#include "runtime/observability/metrics.hpp"
#include "runtime/saga/log.hpp"

namespace troupe::saga {

using json = nlohmann::json;

// One attempt of a step or compensation, as its code sees it. End it exactly once, with
// succeed() or fail(), possibly from a reply handler.
class step_context {
 public:
  virtual ~step_context() = default;
  virtual const json& data() const = 0;        // inputs and results of earlier steps
  virtual const std::string& key() const = 0;  // "<saga id>:<step name>"
  virtual int attempt() const = 0;             // 1, 2, ...
  virtual calls::caller& calls() = 0;
  // Deadline (the step timeout from now), idempotency key, trace id of the saga.
  virtual calls::call_options options() const = 0;
  // Merges `result` (an object) into the saga's data.
  virtual void succeed(json result = json::object()) = 0;
  virtual void fail(const caf::error& err) = 0;

  // Calls `capability` with `msg` (its ctx is filled by the caller) under options(); a reply
  // becomes succeed(to_result(reply)), an error fail(map_error(error)).
  struct keep_error {
    caf::error operator()(const caf::error& err) const { return err; }
  };
  template <class Reply, class Message, class ToResult, class MapError = keep_error>
  void call(const std::string& capability, Message msg, ToResult to_result,
            MapError map_error = {});

 protected:
  // Ends the attempt unless it ended already; keeps the context alive until then.
  virtual std::shared_ptr<step_context> shared() = 0;
};

// What a local step's code sees: the owner's database, inside the store's transaction.
struct local_context {
  sqlite::database& db;
  caf::actor_system& system;
  const json& data;        // inputs and results of earlier steps
  const std::string& key;  // "<saga id>:<step name>", as for any step
  const std::string& trace_id;
};

struct step {
  std::string name;
  std::function<void(step_context&)> action;
  std::function<void(step_context&)> compensation;  // empty: nothing to undo
  bool retry_until_done = false;
  // A read-only step (a check, a lookup) has no effect anywhere: nothing about it needs to be
  // on disk before it is sent, so the engine writes no log row before it.
  bool read_only = false;
  // A local step changes only the owner's own database (like Temporal's local activities):
  // instead of `action`, the engine asks the owner's store to run `local` and, in the same
  // transaction, to write the saga's next log row with the step's result. One write instead
  // of a log row before the step, the step's own commit and a log row after it; a crash
  // leaves either both or neither. Its result (an object) is merged into the data; an error
  // it returns is the step's failure. A local step may not be the last one.
  std::function<caf::expected<json>(const local_context&)> local;
  // A pipelined step is sent as soon as the step ahead of it succeeds, with no log write in
  // between: the row written before that step already records this one as possibly sent
  // (saga_record::reach), so it is on disk before this step is sent. A crash in between
  // resumes at the earlier step (both are sent again under their keys: the first answers
  // come back) and, should the resumed run fail before passing this step, compensates from
  // this step. So its compensation must be harmless when the step never ran (participants'
  // tombstones make it so). It may not be first, nor follow a read-only step (no row).
  bool pipelined = false;
  // A fallback, for a read-only step: when its call fails because the callee is not
  // answering (unavailable: no handle, its circuit breaker open; its outcome unknown; or its
  // deadline passed), the engine asks the owner's store to run `fallback` on the owner's
  // own database instead, at once, and its result (an object) is the step's. An error it
  // returns fails the step without a retry. Orders uses one to check a customer against
  // what it learnt from users' events while users is down.
  std::function<caf::expected<json>(const local_context&, const caf::error& cause)> fallback;
};

struct definition {
  std::string name;
  std::int32_t version = 1;
  std::vector<step> steps;
  int max_attempts = 5;  // per forward step, transient failures included
  backoff_policy retry{std::chrono::milliseconds{50}, std::chrono::milliseconds{2000}};
  std::chrono::milliseconds step_timeout{5000};
  int stuck_after = 8;  // compensation attempts before the saga shows as stuck
  // The final answer, kept in the log so a replayed request gets it again. `failure` is
  // {"code", "message", "step"} when the saga compensated, null when it completed.
  std::function<json(const json& data, const json& failure)> reply;
  // Told once an instance's final state is on disk (completed or not): for the owner's own
  // metrics, say. Runs in the instance's actor; must not block.
  std::function<void(bool completed)> on_finished;
  // What the spans of an instance, its steps and compensations carry besides the engine's own
  // attributes (orders: order.id, order.customer, order.total), from its data.
  std::function<std::vector<std::pair<std::string, tracing::attribute_value>>(const json& data)>
      span_attributes;
};

// How an instance ended.
struct result {
  std::string id;
  std::string outcome;  // "completed" or "compensated"
  std::string reply;    // definition::reply, as JSON text
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, result& x) {
  return f(caf::meta::type_name("troupe.saga_result"), x.id, x.outcome, x.reply);
}

// Ask a running saga actor for its result: answered when it is certain (see above); the
// instance may still be finishing steps that are retried until done.
using await_atom = caf::atom_constant<caf::atom("sagaawait")>;

// What every saga actor of one capability shares.
struct host {
  std::string capability;  // the owner, named in call contexts
  caf::actor store;        // the owner's store: answers save_saga (log_handlers)
  std::shared_ptr<directory_view> view;
  metrics* sink = nullptr;  // may be null (tests)
};

// The definitions a binary knows, by name and version.
class registry {
 public:
  void add(std::shared_ptr<const definition> d);
  std::shared_ptr<const definition> find(const std::string& name, std::int32_t version) const;
  // "place-order v1, ..." for messages.
  std::string known() const;

 private:
  std::map<std::pair<std::string, std::int32_t>, std::shared_ptr<const definition>> defs_;
};

// Starts a new instance: writes its first log row, then runs. `data` must be an object.
// Its span (and through it every step's) hangs under `trace`: the call that started it. The
// trace is kept in the log, so a resumed instance goes on in the same trace.
caf::actor start(caf::actor_system& sys, const host& h, std::shared_ptr<const definition> d,
                 std::string id, json data, trace_parent trace);

// Continues an unfinished instance from its log row.
caf::actor resume(caf::actor_system& sys, const host& h, std::shared_ptr<const definition> d,
                  saga_record record);

// The log row of a saga whose definition this binary does not know: stuck, with the reason.
saga_record unknown_definition(saga_record r, const registry& known);

void register_saga_types(caf::actor_system_config& cfg);

template <class Reply, class Message, class ToResult, class MapError>
void step_context::call(const std::string& capability, Message msg, ToResult to_result,
                        MapError map_error) {
  auto self = shared();
  auto& c = calls();
  calls::callee to;
  try {
    to = c.resolve(capability);
  } catch (const std::exception& e) {
    return fail(caf::make_error(caf::sec::runtime_error, e.what()));
  }
  c.template call<Reply>(
      to, std::move(msg), options(),
      [self, to_result = std::move(to_result)](Reply& reply) mutable {
        self->succeed(to_result(reply));
      },
      [self, map_error](const caf::error& err) { self->fail(map_error(err)); });
}

}  // namespace troupe::saga
