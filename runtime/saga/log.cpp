#include "runtime/saga/log.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "runtime/core/error.hpp"
#include "runtime/events/store.hpp"
#include "runtime/saga/saga.hpp"

namespace troupe::saga {

namespace {

const std::vector<std::string> log_migrations = {
    "CREATE TABLE sagas("
    "  id TEXT PRIMARY KEY,"
    "  definition TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  step_name TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL,"
    "  last_error TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  reply TEXT NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  updated_at_ms INTEGER NOT NULL);"
    "CREATE INDEX sagas_by_state ON sagas(state, updated_at_ms)",
    // Rows written before pipelined steps existed reached their own step only (read as such).
    "ALTER TABLE sagas ADD COLUMN reach INTEGER NOT NULL DEFAULT -1",
};

constexpr const char* columns =
    "id, definition, version, step, step_name, state, outcome, attempts, last_error, data, "
    "reply, created_at_ms, updated_at_ms, reach";

saga_record row_of(sqlite::statement& q) {
  saga_record r;
  r.id = q.text(0);
  r.definition = q.text(1);
  r.version = static_cast<std::int32_t>(q.int64(2));
  r.step = static_cast<std::int32_t>(q.int64(3));
  r.step_name = q.text(4);
  r.state = q.text(5);
  r.outcome = q.text(6);
  r.attempts = static_cast<std::int32_t>(q.int64(7));
  r.last_error = q.text(8);
  r.data = q.text(9);
  r.reply = q.text(10);
  r.created_at_ms = q.int64(11);
  r.updated_at_ms = q.int64(12);
  r.reach = std::max(r.step, static_cast<std::int32_t>(q.int64(13)));
  return r;
}

std::vector<saga_record> rows(sqlite::statement& q) {
  std::vector<saga_record> out;
  while (q.step()) out.push_back(row_of(q));
  q.reset();
  return out;
}

}  // namespace

void migrate_saga_log(sqlite::database& db) {
  db.migrate("saga_log", log_migrations);
}

void save(sqlite::database& db, const saga_record& r) {
  db.prepare(std::string("INSERT INTO sagas(") + columns +
             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
             "ON CONFLICT(id) DO UPDATE SET step = excluded.step, reach = excluded.reach, "
             "step_name = excluded.step_name, "
             "state = excluded.state, outcome = excluded.outcome, attempts = excluded.attempts, "
             "last_error = excluded.last_error, data = excluded.data, reply = excluded.reply, "
             "updated_at_ms = excluded.updated_at_ms")
      .bind(1, r.id)
      .bind(2, r.definition)
      .bind(3, std::int64_t{r.version})
      .bind(4, std::int64_t{r.step})
      .bind(5, r.step_name)
      .bind(6, r.state)
      .bind(7, r.outcome)
      .bind(8, std::int64_t{r.attempts})
      .bind(9, r.last_error)
      .bind(10, r.data)
      .bind(11, r.reply)
      .bind(12, r.created_at_ms)
      .bind(13, r.updated_at_ms)
      .bind(14, std::int64_t{std::max(r.reach, r.step)})
      .run();
}

std::optional<saga_record> find(sqlite::database& db, const std::string& id) {
  auto& q = db.prepare(std::string("SELECT ") + columns + " FROM sagas WHERE id = ?1");
  q.bind(1, id);
  auto found = rows(q);
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::vector<saga_record> list(sqlite::database& db, const std::string& state, std::int32_t limit) {
  auto& q = db.prepare(std::string("SELECT ") + columns +
                       " FROM sagas WHERE (?1 = '' OR state = ?1) "
                       "ORDER BY updated_at_ms DESC, id LIMIT ?2");
  q.bind(1, state).bind(2, std::int64_t{std::clamp(limit, 1, max_list_limit)});
  return rows(q);
}

std::vector<saga_record> unfinished(sqlite::database& db) {
  auto& q = db.prepare(std::string("SELECT ") + columns +
                       " FROM sagas WHERE state != 'done' ORDER BY created_at_ms, id");
  return rows(q);
}

caf::message_handler log_handlers(events::store_core& core,
                                  std::shared_ptr<const registry> local_steps) {
  auto self = core.batch.owner();
  return {
      [self, &core, local_steps](run_local_step& msg) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        core.answer(
            rp, msg.trace, "",
            [&]() -> caf::expected<std::string> {
              auto def =
                  local_steps ? local_steps->find(msg.next.definition, msg.next.version) : nullptr;
              if (!def || msg.step < 0 || static_cast<std::size_t>(msg.step) >= def->steps.size() ||
                  !def->steps[static_cast<std::size_t>(msg.step)].local)
                return make_error(errc::invalid_argument, "this store runs no local step " +
                                                              std::to_string(msg.step) + " of '" +
                                                              msg.next.definition + "'");
              auto data = json::parse(msg.data, nullptr, false);
              if (!data.is_object())
                return make_error(errc::invalid_argument, "the saga's data is not a JSON object");
              auto& s = def->steps[static_cast<std::size_t>(msg.step)];
              auto result = s.local(
                  local_context{core.db, self->system(), data, msg.key, msg.trace.trace_id});
              if (!result) return result.error();
              if (result->is_object()) data.update(*result);
              msg.next.data = data.dump();
              save(core.db, msg.next);
              return result->dump();
            },
            "saga.local_step");
        return rp;
      },
      [self, &core, local_steps](run_fallback& msg) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        core.answer(
            rp, msg.trace, "",
            [&]() -> caf::expected<std::string> {
              auto def = local_steps ? local_steps->find(msg.definition, msg.version) : nullptr;
              if (!def || msg.step < 0 || static_cast<std::size_t>(msg.step) >= def->steps.size() ||
                  !def->steps[static_cast<std::size_t>(msg.step)].fallback)
                return make_error(errc::invalid_argument, "this store runs no fallback of step " +
                                                              std::to_string(msg.step) + " of '" +
                                                              msg.definition + "'");
              auto data = json::parse(msg.data, nullptr, false);
              if (!data.is_object())
                return make_error(errc::invalid_argument, "the saga's data is not a JSON object");
              auto& s = def->steps[static_cast<std::size_t>(msg.step)];
              auto result = s.fallback(
                  local_context{core.db, self->system(), data, msg.key, msg.trace.trace_id},
                  msg.cause);
              if (!result) return result.error();
              return result->dump();
            },
            "saga.fallback");
        return rp;
      },
      [self, &core](save_saga& msg) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        core.answer(rp, "", [&]() -> caf::expected<bool> {
          save(core.db, msg.record);
          return true;
        });
        return rp;
      },
      [self, &core](list_sagas& msg) -> caf::result<std::vector<saga_record>> {
        auto rp = self->make_response_promise<std::vector<saga_record>>();
        core.answer(rp, "", [&]() -> caf::expected<std::vector<saga_record>> {
          return list(core.db, msg.state, msg.limit);
        });
        return rp;
      },
      [self, &core](find_saga& msg) -> caf::result<saga_record> {
        auto rp = self->make_response_promise<saga_record>();
        core.answer(rp, "", [&]() -> caf::expected<saga_record> {
          if (auto r = find(core.db, msg.id)) return *r;
          return make_error(errc::not_found, "no saga '" + msg.id + "'");
        });
        return rp;
      },
      [self, &core](unfinished_sagas&) -> caf::result<std::vector<saga_record>> {
        auto rp = self->make_response_promise<std::vector<saga_record>>();
        core.answer(rp, "", [&]() -> caf::expected<std::vector<saga_record>> {
          return unfinished(core.db);
        });
        return rp;
      },
  };
}

}  // namespace troupe::saga
