#include <random>

#include <nlohmann/json.hpp>

#include <caf/all.hpp>

#include "actors/payments/payments_protocol.hpp"
#include "actors/payments/payments_routes.hpp"
#include "actors/payments/payments_store.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/lru_cache.hpp"
#include "runtime/core/time.hpp"
#include "runtime/events/outbox.hpp"
#include "runtime/events/store.hpp"
#include "runtime/saga/ledger.hpp"
#include "runtime/storage/store_link.hpp"

namespace troupe::payments::detail {

// Front -> fake processor: authorize this charge (the processor remembers idempotency keys,
// as real ones do). Answers bool true, or payment_declined, or unavailable (transient).
struct authorize {
  std::string key;
  std::string customer;
  std::int64_t amount = 0;
  std::string currency;
};

// Front -> store: record the processor's verdict under the step's key. An empty
// `declined` records the charge; otherwise the decline is recorded as the step's answer.
struct record_charge {
  call_context ctx;
  std::string customer;
  std::int64_t amount = 0;
  std::string currency;
  std::string declined;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, authorize& x) {
  return f(caf::meta::type_name("payments.authorize"), x.key, x.customer, x.amount, x.currency);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_charge& x) {
  return f(caf::meta::type_name("payments.record_charge"), x.ctx, x.customer, x.amount, x.currency,
           x.declined);
}

}  // namespace troupe::payments::detail

namespace troupe::payments {

namespace {

namespace rules = troupe::domain::payments;
using json = nlohmann::json;
using detail::authorize;
using detail::record_charge;
using answer_atom = caf::atom_constant<caf::atom("ppanswer")>;

// The fake card processor: the outside world we do not ship. Answers after `latency_ms`,
// declines and fails as its rules say, and gives a repeated key its first verdict.
struct processor_state {
  static inline const char* name = "payments.processor";
  rules::processor_rules rules;
  lru_cache<std::string, std::string> verdicts{10000};  // key -> "" approved, else declined reason
  std::map<std::uint64_t, std::pair<caf::typed_response_promise<bool>, caf::error>> waiting;
  std::uint64_t next = 0;
  std::mt19937_64 rng{std::random_device{}()};
};

caf::behavior processor_behavior(caf::stateful_actor<processor_state>* self,
                                 rules::processor_rules r) {
  self->state.rules = std::move(r);
  return {
      [self](authorize& a) -> caf::result<bool> {
        auto& st = self->state;
        caf::error outcome;
        if (auto seen = st.verdicts.find(a.key)) {
          if (!seen->empty()) outcome = make_error(payment_declined, *seen);
        } else {
          auto chance = std::uniform_real_distribution<double>{0.0, 1.0}(st.rng);
          auto v = rules::decide(st.rules, a.customer, a.amount, chance);
          if (v.outcome == rules::verdict::kind::failed) {
            outcome = make_error(errc::unavailable, v.reason, {}, std::chrono::seconds{1});
          } else {
            auto reason = v.outcome == rules::verdict::kind::declined ? v.reason : std::string{};
            st.verdicts.put(a.key, reason);
            if (!reason.empty()) outcome = make_error(payment_declined, reason);
          }
        }
        auto rp = self->make_response_promise<bool>();
        if (st.rules.latency_ms <= 0) {
          if (outcome)
            rp.deliver(outcome);
          else
            rp.deliver(true);
          return rp;
        }
        auto id = ++st.next;
        st.waiting.emplace(id, std::make_pair(rp, outcome));
        self->delayed_send(self, std::chrono::milliseconds{st.rules.latency_ms}, answer_atom::value,
                           id);
        return rp;
      },
      [self](answer_atom, std::uint64_t id) {
        auto it = self->state.waiting.find(id);
        if (it == self->state.waiting.end()) return;
        auto& [rp, outcome] = it->second;
        if (outcome)
          rp.deliver(outcome);
        else
          rp.deliver(true);
        self->state.waiting.erase(it);
      },
  };
}

void publish(sqlite::database& db, const call_context& ctx, std::string type, const charge& c) {
  events::event_envelope e;
  e.type = std::move(type);
  e.source = "payments";
  e.aggregate_id = c.id;
  e.trace_id = ctx.trace_id;
  e.payload = json{{"customer", c.customer}, {"amount", c.amount}, {"currency", c.currency}}.dump();
  events::append(db, e);
}

struct store_state {
  static inline const char* name = "payments.store";
  std::unique_ptr<events::store_core> core;
};

caf::behavior store_behavior(caf::stateful_actor<store_state>* self, std::string path,
                             commit_metrics commits) {
  self->set_exception_handler(exit_reason_of);
  auto& st = self->state;
  st.core = std::make_unique<events::store_core>(self, path, sqlite::batch_limits{}, commits);
  migrate_payments(st.core->db);
  saga::migrate_ledger(st.core->db);
  auto& db = st.core->db;
  auto& sys = self->system();
  return caf::message_handler{
      [self, &db, &sys](record_charge& cmd) -> caf::result<charge> {
        auto rp = self->make_response_promise<charge>();
        self->state.core->answer(rp, parent_of(cmd.ctx), "payments.charge", [&] {
          return saga::step_once<charge>(db, sys, cmd.ctx.idempotency_key,
                                         [&]() -> caf::expected<charge> {
                                           if (!cmd.declined.empty())
                                             return make_error(payment_declined, cmd.declined);
                                           charge c{"c-" + time_ordered_hex64(),
                                                    cmd.customer,
                                                    cmd.amount,
                                                    cmd.currency,
                                                    "charged",
                                                    unix_now_ms()};
                                           insert_charge(db, c, cmd.ctx.idempotency_key);
                                           publish(db, cmd.ctx, "PaymentCharged", c);
                                           return c;
                                         });
        });
        return rp;
      },
      [self, &db, &sys](refund_payment& cmd) -> caf::result<charge> {
        auto rp = self->make_response_promise<charge>();
        self->state.core->answer(rp, parent_of(cmd.ctx), "payments.refund", [&] {
          auto& key = cmd.ctx.idempotency_key;
          auto none = [] { return charge{"", "", 0, "", "none", 0}; };
          auto undo = [&]() -> caf::expected<charge> {
            auto c = find_charge_by_key(db, key);
            if (!c) return none();  // the charge was declined: nothing to give back
            if (c->status == "refunded") return *c;
            set_charge_status(db, c->id, "refunded", unix_now_ms());
            c->status = "refunded";
            publish(db, cmd.ctx, "PaymentRefunded", *c);
            return *c;
          };
          return saga::compensate_once<charge>(db, sys, key, undo, none);
        });
        return rp;
      },
      [self, &db](get_payment& query) -> caf::result<charge> {
        auto rp = self->make_response_promise<charge>();
        self->state.core->answer(rp, parent_of(query.ctx), "", [&]() -> caf::expected<charge> {
          if (auto c = find_charge(db, query.id); c && acts_for(query.ctx, c->customer)) return *c;
          return make_error(errc::not_found, "no payment '" + query.id + "'");
        });
        return rp;
      },
  }
      .or_else(st.core->handlers());
}

struct front_state {
  static inline const char* name = "payments.front";
  store_link store;
  caf::actor processor;
};

payments_actor::behavior_type front_behavior(payments_actor::stateful_pointer<front_state> self,
                                             std::shared_ptr<child_ref> store, caf::actor processor,
                                             bool linked, queue_bound shedding) {
  self->set_exception_handler(exit_reason_of);
  // Unsupervised: one fate with the store. Supervised, the store may restart alone. The fake
  // processor holds nothing worth keeping: it shares the front's fate either way.
  if (linked) self->link_to(store->get());
  self->state.store = store_link{std::move(store), "payments"};
  self->set_down_handler([self](caf::down_msg& down) { self->state.store.store_down(down); });
  self->state.processor = processor;
  self->link_to(processor);
  return {
      [self, shedding](charge_payment& cmd) -> caf::result<charge> {
        if (auto refused = shedding.refuse(self, cmd.ctx, "charge_payment")) return refused;
        // Refused before the processor is asked: without a key a repeat would charge twice.
        if (auto missing = saga::require_key(cmd.ctx.idempotency_key)) return missing;
        if (auto v = rules::check_charge(cmd.customer, cmd.amount, cmd.currency))
          return make_error(errc::invalid_argument, v->field + " " + v->message, v->field);
        auto rp = self->make_response_promise<charge>();
        // Records the processor's verdict (approved: empty) and answers with the store's answer.
        // The processor has decided by now: a failure to record is not "nothing was done"
        // (unavailable) but an unknown outcome, which a saga compensates (refund, keyed).
        auto record = [self, rp, cmd](std::string declined) mutable {
          auto unknown = [](const std::string& why) {
            return make_error(
                errc::outcome_unknown,
                "the card processor answered but the payment was not recorded: " + why);
          };
          auto& store = self->state.store.store();
          if (!store) {
            rp.deliver(unknown("the payments store is restarting"));
            return;
          }
          self->request(store, caf::infinite,
                        record_charge{cmd.ctx, cmd.customer, cmd.amount, cmd.currency,
                                      std::move(declined)})
              .then([rp](charge& c) mutable { rp.deliver(std::move(c)); },
                    [rp, unknown](caf::error& err) mutable {
                      auto info = describe(err);
                      if (info.code == errc::unavailable)
                        return rp.deliver(unknown(info.message)), void();
                      rp.deliver(std::move(err));
                    });
        };
        // The processor's wait counts against the caller's budget.
        auto left = cmd.ctx.deadline == call_context::clock::time_point::max()
                        ? std::chrono::milliseconds{30000}
                        : std::chrono::duration_cast<std::chrono::milliseconds>(
                              cmd.ctx.deadline - self->clock().now());
        self->request(self->state.processor, left,
                      authorize{cmd.ctx.idempotency_key, cmd.customer, cmd.amount, cmd.currency})
            .then([record](bool) mutable { record({}); },
                  [record, rp](caf::error& err) mutable {
                    auto info = describe(err);
                    if (info.name == payment_declined.name)
                      record(info.message);
                    else
                      rp.deliver(std::move(err));  // transient: nothing charged, nothing recorded
                  });
        return rp;
      },
      [self, shedding](refund_payment& cmd) -> caf::result<charge> {
        if (auto forbidden = shedding.forbid(cmd.ctx, "refund_payment")) return forbidden;
        return self->state.store.ask<charge>(self, std::move(cmd));
      },
      [self, shedding](get_payment& query) -> caf::result<charge> {
        if (auto refused = shedding.refuse(self, query.ctx, "get_payment")) return refused;
        if (query.id.size() > 64) return make_error(errc::not_found, "no such payment");
        return self->state.store.ask<charge>(self, std::move(query));
      },
      [self](health_atom) {
        return health_report{{"payments", true,
                              "serving; " + std::to_string(self->state.store.backlog()) +
                                  " requests waiting for the store"}};
      },
  };
}

}  // namespace

payments_actor spawn_payments(caf::actor_system& system, const payments_config& config) {
  bool supervised = static_cast<bool>(config.supervise);
  auto store = spawn_store(system, config.supervise, store_behavior, config.database_path,
                           config.detached_store, config.commits);
  auto processor = system.spawn(processor_behavior, config.processor);
  return system.spawn(front_behavior, store, processor, !supervised, config.shedding);
}

void register_payments_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<charge>("payments.charge");
  cfg.add_message_type<charge_payment>("payments.charge_payment");
  cfg.add_message_type<refund_payment>("payments.refund_payment");
  cfg.add_message_type<get_payment>("payments.get_payment");
  cfg.add_message_type<authorize>("payments.authorize");
  cfg.add_message_type<record_charge>("payments.record_charge");
}

capability payments_capability() {
  capability cap;
  cap.name = "payments";
  cap.operations = {"charge_payment", "refund_payment", "get_payment"};
  cap.errors = {payment_declined};
  cap.has_database = true;
  cap.read_settings = [](settings_reader& s) -> std::any {
    payments_settings out;
    out.decline_over = s.integer("decline_over", 0, rules::max_amount, out.decline_over);
    out.decline_customers = s.strings("decline_customers", 1000, 64, {});
    out.failure_rate = s.number("failure_rate", 0.0, 1.0, 0.0);
    out.latency_ms = s.integer("latency_ms", 0, 60000, 0);
    return out;
  };
  cap.register_types = register_payments_types;
  cap.spawn = [](const capability_context& ctx) {
    payments_config cfg{ctx.database_path, ctx.settings_as<payments_settings>(), true,
                        ctx.supervise, ctx.shedding};
    if (ctx.node_metrics) cfg.commits = ctx.node_metrics->for_database("payments.db");
    return caf::actor_cast<caf::actor>(spawn_payments(*ctx.system, cfg));
  };
  cap.routes = payments_routes();
  return cap;
}

}  // namespace troupe::payments
