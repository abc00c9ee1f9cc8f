#include <set>

#include <nlohmann/json.hpp>

#include <caf/all.hpp>

#include "actors/inventory/inventory_protocol.hpp"
#include "actors/orders/orders_events.hpp"
#include "actors/orders/orders_protocol.hpp"
#include "actors/orders/orders_read_model.hpp"
#include "actors/orders/orders_routes.hpp"
#include "actors/orders/orders_store.hpp"
#include "actors/payments/payments_protocol.hpp"
#include "actors/users/users_protocol.hpp"
#include "domain/inventory/inventory_rules.hpp"
#include "domain/users/user_rules.hpp"
#include "runtime/cluster/await_reachable.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"
#include "runtime/events/inbox.hpp"
#include "runtime/events/store.hpp"
#include "runtime/events/subscription.hpp"
#include "runtime/observability/log.hpp"
#include "runtime/observability/metrics.hpp"
#include "runtime/saga/ledger.hpp"
#include "runtime/storage/store_link.hpp"

namespace troupe::orders::detail {

// Front -> store: claim an Idempotency-Key for a new saga, or learn the saga that has it.
struct claim_request {
  std::string key;
  std::string saga_id;
  std::string order_id;
  std::string request;  // canonical text
};

struct claim_answer {
  bool fresh = false;  // the key was free and is now claimed with the ids asked for
  std::string saga_id;
  std::string order_id;
  std::string request;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claim_request& x) {
  return f(caf::meta::type_name("orders.claim_request"), x.key, x.saga_id, x.order_id, x.request);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claim_answer& x) {
  return f(caf::meta::type_name("orders.claim_answer"), x.fresh, x.saga_id, x.order_id, x.request);
}

}  // namespace troupe::orders::detail

namespace troupe::orders {

namespace {

namespace d = troupe::domain::orders;
using json = nlohmann::json;
using detail::claim_answer;
using detail::claim_request;

constexpr const char* customers_subscription = "orders.customers";
constexpr const char* recovery_gate = "orders.sagas";

// --- the store: events, snapshots, saga log, ledger, claims, customers ---------------------

struct store_state {
  static inline const char* name = "orders.store";
  std::unique_ptr<events::store_core> core;
};

caf::behavior store_behavior(caf::stateful_actor<store_state>* self, std::string path,
                             std::int64_t snapshot_every,
                             std::shared_ptr<const saga::registry> sagas, commit_metrics commits) {
  self->set_exception_handler(exit_reason_of);
  auto& st = self->state;
  st.core = std::make_unique<events::store_core>(self, path, sqlite::batch_limits{}, commits);
  auto& db = st.core->db;
  migrate_orders(db);
  saga::migrate_ledger(db);
  saga::migrate_saga_log(db);
  events::migrate_inbox(db);
  auto& sys = self->system();
  auto& core = *st.core;
  return caf::message_handler{
      [self, &db, &sys, &core, snapshot_every](create_order& cmd) -> caf::result<order_view> {
        auto rp = self->make_response_promise<order_view>();
        core.answer(rp, parent_of(cmd.ctx), "orders.create",
                    [&] { return create_once(db, sys, cmd, snapshot_every); });
        return rp;
      },
      [self, &db, &sys, &core, snapshot_every](confirm_order& cmd) -> caf::result<order_view> {
        auto rp = self->make_response_promise<order_view>();
        core.answer(rp, parent_of(cmd.ctx), "orders.confirm",
                    [&] { return confirm_once(db, sys, cmd, snapshot_every); });
        return rp;
      },
      [self, &db, &sys, &core, snapshot_every](cancel_order& cmd) -> caf::result<order_view> {
        auto rp = self->make_response_promise<order_view>();
        core.answer(rp, parent_of(cmd.ctx), "orders.cancel", [&] {
          auto undo = [&]() -> caf::expected<order_view> {
            auto o = load_order(db, cmd.order_id);
            if (o.state == d::status::none) return order_view{};  // its create was refused
            return decide(db, o, d::cancel(o, cmd.code, cmd.reason), cmd.ctx, snapshot_every);
          };
          return saga::compensate_once<order_view>(db, sys, cmd.ctx.idempotency_key, undo,
                                                   [] { return order_view{}; });
        });
        return rp;
      },
      [self, &db, &core, snapshot_every](add_order_item& cmd) -> caf::result<order_view> {
        auto rp = self->make_response_promise<order_view>();
        core.answer(rp, parent_of(cmd.ctx), "", [&]() -> caf::expected<order_view> {
          auto o = load_order(db, cmd.order_id);
          if (o.state == d::status::none || !acts_for(cmd.ctx, o.customer))
            return make_error(errc::not_found, "no order '" + cmd.order_id + "'");
          return decide(db, o, d::add_item(o, cmd.item), cmd.ctx, snapshot_every);
        });
        return rp;
      },
      [self, &db, &core](get_order& query) -> caf::result<order_view> {
        auto rp = self->make_response_promise<order_view>();
        core.answer(rp, parent_of(query.ctx), "", [&]() -> caf::expected<order_view> {
          auto o = load_order(db, query.id);
          if (o.state == d::status::none || !acts_for(query.ctx, o.customer))
            return make_error(errc::not_found, "no order '" + query.id + "'");
          auto v = view_of(o);
          v.history = history_of(db, query.id);
          return v;
        });
        return rp;
      },
      [self, &db, &core](claim_request& msg) -> caf::result<claim_answer> {
        auto rp = self->make_response_promise<claim_answer>();
        core.answer(rp, "", [&]() -> caf::expected<claim_answer> {
          if (auto c = find_claim(db, msg.key))
            return claim_answer{false, c->saga_id, c->order_id, c->request};
          insert_claim(db, msg.key, {msg.saga_id, msg.order_id, msg.request});
          return claim_answer{true, msg.saga_id, msg.order_id, msg.request};
        });
        return rp;
      },
      // The customers subscription (users' events) lands here.
      [self, &db](events::inbox_atom, const std::string& name) -> caf::result<std::int64_t> {
        auto rp = self->make_response_promise<std::int64_t>();
        self->state.core->answer(rp, "", [&]() -> caf::expected<std::int64_t> {
          return events::inbox_offset(db, name);
        });
        return rp;
      },
      [self, &db](events::apply_events& msg) -> caf::result<std::int64_t> {
        auto rp = self->make_response_promise<std::int64_t>();
        self->state.core->answer(rp, "orders.customers", [&]() -> caf::expected<std::int64_t> {
          events::apply_page_once(db, msg.subscription, msg.events,
                                  [&](const events::event_envelope& ev) {
                                    if (auto c = customer_from(ev))
                                      save_customer(db, ev.aggregate_id, c->name, c->email);
                                  });
          return events::inbox_offset(db, msg.subscription);
        });
        return rp;
      },
  }
      .or_else(saga::log_handlers(core, std::move(sagas)))
      .or_else(core.handlers());
}

// --- the read model ------------------------------------------------------------------------

struct read_state {
  static inline const char* name = "orders.read_model";
  std::unique_ptr<sqlite::database> db;
  std::unique_ptr<sqlite::write_batch> batch;
};

caf::behavior read_model_behavior(caf::stateful_actor<read_state>* self, std::string path,
                                  commit_metrics commits) {
  self->set_exception_handler(exit_reason_of);
  auto& st = self->state;
  // Derived data: its offset commits with its effect, and the outbox it is rebuilt from is
  // durable, so a commit lost with the power is applied again; no fsync per page.
  st.db = std::make_unique<sqlite::database>(path, sqlite::durability::normal);
  migrate_read_model(*st.db);
  st.batch = std::make_unique<sqlite::write_batch>(self, *st.db);
  st.batch->observe(commits);
  auto& db = *st.db;
  auto& batch = *st.batch;
  return {
      [self, &db, &batch](events::inbox_atom,
                          const std::string& name) -> caf::result<std::int64_t> {
        auto rp = self->make_response_promise<std::int64_t>();
        batch.answer(
            rp, [&]() -> caf::expected<std::int64_t> { return events::inbox_offset(db, name); });
        return rp;
      },
      [self, &db, &batch](events::apply_events& msg) -> caf::result<std::int64_t> {
        auto rp = self->make_response_promise<std::int64_t>();
        batch.answer(rp, [&]() -> caf::expected<std::int64_t> {
          apply_page_to_read_model(db, msg.subscription, msg.events);
          return events::inbox_offset(db, msg.subscription);
        });
        return rp;
      },
      [self, &db, &batch](list_orders& q) -> caf::result<order_page> {
        auto rp = self->make_response_promise<order_page>();
        batch.answer(rp, [&]() -> caf::expected<order_page> {
          try {
            return read_customer_orders(db, q.customer, q.limit, q.after);
          } catch (const std::invalid_argument& e) {
            return make_error(errc::invalid_argument, e.what(), "after");
          }
        });
        return rp;
      },
      [self, &db, &batch](get_order_stats&) -> caf::result<order_stats> {
        auto rp = self->make_response_promise<order_stats>();
        batch.answer(rp, [&]() -> caf::expected<order_stats> { return read_stats(db); });
        return rp;
      },
      [&batch](sqlite::flush_atom, std::uint64_t g) { batch.flush(g); },
  };
}

// --- the front -----------------------------------------------------------------------------

struct front_state {
  static inline const char* name = "orders.front";
  store_link store;
  store_link read_model;
  saga::host host;
  std::shared_ptr<const saga::definition> place_order;
  std::shared_ptr<const saga::registry> known;
  // saga id -> its actor, until the actor ends (it may answer before: saga.hpp)
  std::map<std::string, caf::actor> running;
  std::set<std::string> recovering;  // saga ids resumed at start, not final yet
  std::shared_ptr<readiness_gates> gates;
  bool draining = false;                                   // the node is stopping: no new sagas
  std::vector<caf::typed_response_promise<bool>> drained;  // answered when nothing is held
  int asking = 0;  // requests to the store this front awaits outside the links (claims)
  // Nothing this front must still answer: CAF 0.17 drops a stopped actor's promises, so a
  // drain that ended with a request held would leave its caller to time out.
  bool idle() const {
    return running.empty() && asking == 0 && store.backlog() == 0 && read_model.backlog() == 0;
  }
};

using front_actor = orders_actor::stateful_pointer<front_state>;

// The text a replayed request must match: customer and items, in order.
std::string canonical_request(const place_order& cmd) {
  std::string out = cmd.customer;
  for (auto& l : cmd.items) out += "\n" + l.sku + " " + std::to_string(l.quantity);
  return out;
}

void release_gate_if_done(front_actor self) {
  auto& st = self->state;
  if (st.recovering.empty()) {
    if (st.gates) st.gates->release(recovery_gate);
    return;
  }
  if (st.gates)
    st.gates->hold(recovery_gate,
                   std::to_string(st.recovering.size()) + " unfinished sagas are being recovered");
}

// Answers `rp` with the saga's result when it is certain. An actor that ended before the
// question reached it (its end not yet seen here) left its result in the log.
void asked(front_actor self);

void await_saga(front_actor self, const std::string& id, caf::actor saga,
                caf::typed_response_promise<saga::result> rp) {
  self->request(saga, caf::infinite, saga::await_atom::value)
      .then([rp](saga::result& r) mutable { rp.deliver(r); },
            [self, id, rp](caf::error& err) mutable {
              auto why = self->system().render(err);
              // The saga may be gone (and no longer running) before this answer comes back.
              ++self->state.asking;
              self->request(self->state.store.store(), caf::infinite, saga::find_saga{id})
                  .then(
                      [self, rp, id, why](saga::saga_record& r) mutable {
                        if (r.state == saga::state_done)
                          rp.deliver(saga::result{r.id, r.outcome, r.reply});
                        else
                          rp.deliver(make_error(errc::internal,
                                                "saga " + id + " ended without a result: " + why));
                        asked(self);
                      },
                      [self, rp](caf::error& err) mutable {
                        rp.deliver(std::move(err));
                        asked(self);
                      });
            });
}

// Linked: a saga actor that crashes takes the capability down, and its restart resumes every
// unfinished saga from the log; a capability that stops takes its sagas with it. Monitored:
// it is running until its actor ends (see the down handler).
void track_saga(front_actor self, const std::string& id, const caf::actor& actor) {
  self->link_to(actor);
  self->monitor(actor);
  self->state.running[id] = actor;
}

void release_gate_if_done(front_actor self);

void answer_drained_if_idle(front_actor self) {
  auto& st = self->state;
  if (!st.draining || !st.idle()) return;
  for (auto& rp : st.drained) rp.deliver(true);
  st.drained.clear();
}

// A request to the store awaited outside the links has been handled (called last).
void asked(front_actor self) {
  --self->state.asking;
  answer_drained_if_idle(self);
}

void saga_ended(front_actor self, const caf::down_msg& down) {
  auto& st = self->state;
  for (auto it = st.running.begin(); it != st.running.end(); ++it)
    if (it->second.address() == down.source) {
      bool was_recovering = st.recovering.erase(it->first) > 0;
      st.running.erase(it);
      if (was_recovering) release_gate_if_done(self);
      answer_drained_if_idle(self);
      return;
    }
}

void start_saga(front_actor self, const place_order& cmd, const std::string& saga_id,
                const std::string& order_id, caf::typed_response_promise<saga::result> rp) {
  auto& st = self->state;
  // A claim answered after the drain began (the drain saw no saga running): none starts now.
  // A replay after the restart finds the claim without a saga and starts it then.
  if (st.draining) {
    rp.deliver(make_error(errc::unavailable, "orders is shutting down; retry shortly", {},
                          std::chrono::seconds{1}));
    return;
  }
  json items = json::array();
  for (auto& l : cmd.items) items.push_back({{"sku", l.sku}, {"quantity", l.quantity}});
  json data = {{"order_id", order_id}, {"customer", cmd.customer}, {"items", items}};
  auto actor = saga::start(self->system(), st.host, st.place_order, saga_id, std::move(data),
                           parent_of(cmd.ctx));
  track_saga(self, saga_id, actor);
  await_saga(self, saga_id, actor, rp);
}

// A replay of a claimed key: the running saga's result, or the logged one.
void answer_claimed(front_actor self, const claim_answer& claim, const place_order& cmd,
                    caf::typed_response_promise<saga::result> rp) {
  auto& st = self->state;
  if (auto it = st.running.find(claim.saga_id); it != st.running.end())
    return await_saga(self, claim.saga_id, it->second, rp);
  ++st.asking;
  self->request(st.store.store(), caf::infinite, saga::find_saga{claim.saga_id})
      .then(
          [self, rp, claim, cmd](saga::saga_record& r) mutable {
            if (r.state == saga::state_done)
              rp.deliver(saga::result{r.id, r.outcome, r.reply});
            else if (auto it = self->state.running.find(r.id); it != self->state.running.end())
              await_saga(self, r.id, it->second, rp);
            else
              rp.deliver(make_error(errc::unavailable,
                                    "the order for this Idempotency-Key is being recovered", {},
                                    std::chrono::seconds{1}));
            asked(self);
          },
          [self, rp, claim, cmd](caf::error& err) mutable {
            // Claimed, then the node stopped before the saga's first log row: start it now
            // (unless a replay that came first already did).
            auto& running = self->state.running;
            if (describe(err).code != errc::not_found)
              rp.deliver(std::move(err));
            else if (auto it = running.find(claim.saga_id); it != running.end())
              await_saga(self, claim.saga_id, it->second, rp);
            else
              start_saga(self, cmd, claim.saga_id, claim.order_id, rp);
            asked(self);
          });
}

void load_and_resume(front_actor self);

// Sagas resume once every capability they call is reachable: right after a restart the
// peers' nodes are still being connected, and a step refused for that would be given up on.
void recover(front_actor self) {
  auto& st = self->state;
  if (st.gates)
    st.gates->hold(recovery_gate, "waiting for the capabilities sagas call to be reachable");
  auto waiter = spawn_reachability_waiter(self->system(), st.host.view,
                                          {"users", "inventory", "payments", "orders"});
  self->link_to(waiter);  // a capability that stops does not leave it polling
  self->request(waiter, caf::infinite, ready_atom::value)
      .then([self](bool) { load_and_resume(self); },
            [self](caf::error& err) {
              self->quit(make_error(errc::internal, "waiting for reachability failed: " +
                                                        self->system().render(err)));
            });
}

void load_and_resume(front_actor self) {
  auto& st = self->state;
  if (st.gates) st.gates->hold(recovery_gate, "loading unfinished sagas");
  self->request(st.store.store(), caf::infinite, saga::unfinished_sagas{})
      .then(
          [self](std::vector<saga::saga_record>& pending) {
            auto& st = self->state;
            for (auto& r : pending) {
              auto def = st.known->find(r.definition, r.version);
              if (!def) {
                if (r.state == saga::state_stuck && !r.last_error.empty() &&
                    r.last_error.rfind("unknown saga definition", 0) == 0)
                  continue;  // marked already
                auto stuck = saga::unknown_definition(r, *st.known);
                log_error("orders", "saga " + r.id + ": " + stuck.last_error);
                caf::anon_send(st.store.store(), saga::save_saga{stuck});
                continue;
              }
              log_info("orders", "recovering saga " + r.id + " (" + r.state + " at step '" +
                                     r.step_name + "')");
              auto actor = saga::resume(self->system(), st.host, def, r);
              // Ready once every resumed saga is done (saga_ended), not merely answered.
              track_saga(self, r.id, actor);
              st.recovering.insert(r.id);
            }
            if (!pending.empty())
              log_info("orders", std::to_string(st.recovering.size()) + " of " +
                                     std::to_string(pending.size()) + " unfinished sagas resumed");
            release_gate_if_done(self);
          },
          [self](caf::error& err) {
            // Without its log the capability cannot know what it owes: fail and restart.
            self->quit(make_error(errc::internal,
                                  "cannot read the saga log: " + self->system().render(err)));
          });
}

orders_actor::behavior_type front_behavior(front_actor self, caf::actor store,
                                           caf::actor read_model, saga::host host,
                                           std::shared_ptr<const saga::registry> known,
                                           std::shared_ptr<readiness_gates> gates,
                                           std::vector<events::subscription_config> subs,
                                           queue_bound shedding) {
  self->set_exception_handler(exit_reason_of);
  auto& st = self->state;
  st.store = store_link{store, "orders"};
  st.read_model = store_link{read_model, "orders read model"};
  st.store.when_idle([self] { answer_drained_if_idle(self); });
  st.read_model.when_idle([self] { answer_drained_if_idle(self); });
  st.host = std::move(host);
  st.host.store = store;
  st.place_order = known->find(place_order_name, place_order_version);
  st.known = std::move(known);
  st.gates = std::move(gates);
  self->set_down_handler([self](caf::down_msg& down) {
    if (!self->state.store.store_down(down) && !self->state.read_model.store_down(down))
      saga_ended(self, down);
  });
  self->link_to(store);
  self->link_to(read_model);
  // Linked: a restart of the capability restarts its subscriptions too.
  for (auto& cfg : subs) self->link_to(events::spawn_subscription(self->system(), cfg));
  recover(self);
  auto late = [self, shedding](const call_context& ctx, std::string_view operation) {
    return shedding.refuse(self, ctx, operation);
  };
  return {
      [self, late](place_order& cmd) -> caf::result<saga::result> {
        if (auto refused = late(cmd.ctx, "place_order")) return refused;
        // Stopping: a saga started now could not finish before the node goes.
        if (self->state.draining)
          return make_error(errc::unavailable, "orders is shutting down; retry shortly", {},
                            std::chrono::seconds{1});
        if (!domain::users::valid_user_id(cmd.customer))
          return make_error(errc::invalid_argument,
                            "customer must be a user id (1 to 64 letters, digits, '-' or '_')",
                            "customer");
        if (!acts_for(cmd.ctx, cmd.customer))
          return make_error(errc::forbidden, "an order may be placed only for yourself",
                            "customer");
        std::vector<domain::inventory::line> wanted;
        for (auto& l : cmd.items) wanted.push_back({l.sku, l.quantity, 0});
        if (auto v = domain::inventory::check_lines(wanted))
          return make_error(errc::invalid_argument, v->field + " " + v->message, v->field);
        auto rp = self->make_response_promise<saga::result>();
        // Time-ordered: the indexes keyed by order and saga ids grow at their end.
        auto order_id = d::make_order_id(time_ordered_id64());
        auto saga_id = "s-" + order_id.substr(2);
        if (cmd.request_key.empty()) {
          start_saga(self, cmd, saga_id, order_id, rp);
          return rp;
        }
        auto request = canonical_request(cmd);
        ++self->state.asking;
        self->request(
                self->state.store.store(), caf::infinite,
                // Keys are per customer: one customer's key never answers, nor
                // blocks, another's (a header value cannot hold the newline).
                claim_request{cmd.customer + "\n" + cmd.request_key, saga_id, order_id, request})
            .then(
                [self, rp, cmd, request](claim_answer& claim) mutable {
                  if (claim.fresh)
                    start_saga(self, cmd, claim.saga_id, claim.order_id, rp);
                  else if (claim.request != request)
                    rp.deliver(make_error(idempotency_key_reused,
                                          "this Idempotency-Key was used with a different request",
                                          "Idempotency-Key"));
                  else
                    answer_claimed(self, claim, cmd, rp);
                  asked(self);
                },
                [self, rp](caf::error& err) mutable {
                  rp.deliver(std::move(err));
                  asked(self);
                });
        return rp;
      },
      [self, late](get_order& query) -> caf::result<order_view> {
        if (auto refused = late(query.ctx, "get_order")) return refused;
        if (!d::valid_order_id(query.id))
          return make_error(errc::not_found, "no order '" + query.id + "'");
        return self->state.store.ask<order_view>(self, std::move(query));
      },
      [self, late](add_order_item& cmd) -> caf::result<order_view> {
        if (auto refused = late(cmd.ctx, "add_order_item")) return refused;
        if (!d::valid_order_id(cmd.order_id))
          return make_error(errc::not_found, "no order '" + cmd.order_id + "'");
        std::vector<domain::inventory::line> wanted{{cmd.item.sku, cmd.item.quantity, 0}};
        if (auto v = domain::inventory::check_lines(wanted))
          return make_error(errc::invalid_argument, v->message, v->field.substr(9));
        return self->state.store.ask<order_view>(self, std::move(cmd));
      },
      [self, late](list_orders& query) -> caf::result<order_page> {
        if (auto refused = late(query.ctx, "list_orders")) return refused;
        if (query.limit < 1 || query.limit > 100)
          return make_error(errc::invalid_argument, "limit must be from 1 to 100", "limit");
        // A customer lists their own orders; only admin_scope lists anyone's, or all.
        if (!query.ctx.principal.empty() && !has_scope(query.ctx, admin_scope)) {
          if (!query.customer.empty() && query.customer != query.ctx.principal)
            return make_error(errc::forbidden, "you may list only your own orders", "customer");
          query.customer = query.ctx.principal;
        }
        if (query.customer.empty())
          return make_error(errc::invalid_argument, "customer is required: /api/orders?customer=ID",
                            "customer");
        return self->state.read_model.ask<order_page>(self, std::move(query));
      },
      [self, late](get_order_stats& query) -> caf::result<order_stats> {
        if (auto refused = late(query.ctx, "get_order_stats")) return refused;
        return self->state.read_model.ask<order_stats>(self, std::move(query));
      },
      [self, shedding](create_order& cmd) -> caf::result<order_view> {
        if (auto forbidden = shedding.forbid(cmd.ctx, "create_order")) return forbidden;
        return self->state.store.ask<order_view>(self, std::move(cmd));
      },
      [self, shedding](confirm_order& cmd) -> caf::result<order_view> {
        if (auto forbidden = shedding.forbid(cmd.ctx, "confirm_order")) return forbidden;
        return self->state.store.ask<order_view>(self, std::move(cmd));
      },
      [self, shedding](cancel_order& cmd) -> caf::result<order_view> {
        if (auto forbidden = shedding.forbid(cmd.ctx, "cancel_order")) return forbidden;
        return self->state.store.ask<order_view>(self, std::move(cmd));
      },
      [self](saga::list_sagas& q) -> caf::result<std::vector<saga::saga_record>> {
        return self->state.store.ask<std::vector<saga::saga_record>>(self, std::move(q));
      },
      [self](saga::find_saga& q) -> caf::result<saga::saga_record> {
        return self->state.store.ask<saga::saga_record>(self, std::move(q));
      },
      [self](drain_atom) -> caf::result<bool> {
        auto& st = self->state;
        st.draining = true;
        if (st.idle()) return true;
        log_info("orders",
                 "draining: waiting for " + std::to_string(st.running.size()) +
                     " running sagas and " +
                     std::to_string(st.asking + st.store.backlog() + st.read_model.backlog()) +
                     " requests to its stores");
        auto rp = self->make_response_promise<bool>();
        st.drained.push_back(rp);
        return rp;
      },
      [self](health_atom) {
        auto& st = self->state;
        return health_report{{"orders", true,
                              "serving; " + std::to_string(st.running.size()) + " sagas running, " +
                                  std::to_string(st.store.backlog()) +
                                  " requests waiting for the store"}};
      },
  };
}

}  // namespace

void register_orders_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<line>("orders.line");
  cfg.add_message_type<std::vector<line>>("orders.lines");
  cfg.add_message_type<history_entry>("orders.history_entry");
  cfg.add_message_type<order_view>("orders.order_view");
  cfg.add_message_type<place_order>("orders.place_order");
  cfg.add_message_type<get_order>("orders.get_order");
  cfg.add_message_type<add_order_item>("orders.add_order_item");
  cfg.add_message_type<list_orders>("orders.list_orders");
  cfg.add_message_type<order_page>("orders.order_page");
  cfg.add_message_type<get_order_stats>("orders.get_order_stats");
  cfg.add_message_type<order_stats>("orders.order_stats");
  cfg.add_message_type<create_order>("orders.create_order");
  cfg.add_message_type<confirm_order>("orders.confirm_order");
  cfg.add_message_type<cancel_order>("orders.cancel_order");
  cfg.add_message_type<claim_request>("orders.claim_request");
  cfg.add_message_type<claim_answer>("orders.claim_answer");
}

capability orders_capability() {
  capability cap;
  cap.name = "orders";
  cap.operations = {"place_order",     "get_order",    "add_order_item", "list_orders",
                    "get_order_stats", "create_order", "confirm_order",  "cancel_order"};
  cap.calls = {"users", "inventory", "payments"};
  cap.errors = {unknown_customer, idempotency_key_reused};
  cap.has_database = true;
  cap.owns_sagas = true;
  cap.drains = true;  // its running sagas
  cap.read_settings = [](settings_reader& s) -> std::any {
    orders_settings out;
    out.snapshot_every = s.integer("snapshot_every", 1, 1000000, out.snapshot_every);
    out.step_timeout = s.milliseconds("step_timeout_ms", 10, 600000, out.step_timeout.count());
    out.step_attempts = static_cast<int>(s.integer("step_attempts", 1, 100, out.step_attempts));
    out.retry_backoff_max =
        s.milliseconds("retry_backoff_max_ms", 50, 600000, out.retry_backoff_max.count());
    return out;
  };
  cap.register_types = register_orders_types;
  cap.spawn = [](const capability_context& ctx) {
    auto& settings = ctx.settings_as<orders_settings>();
    auto& sys = *ctx.system;
    // The store runs the saga's local steps, the front its instances: both know it.
    auto known = std::make_shared<saga::registry>();
    auto place = std::make_shared<saga::definition>(*place_order_saga(settings));
    if (ctx.node_metrics) {
      auto processed = ctx.node_metrics->counter(
          "orders_processed_total", "Orders whose placement ended, by status: confirmed, cancelled",
          "status", {"confirmed", "cancelled"});
      place->on_finished = [processed](bool confirmed) mutable {
        processed.increment(confirmed ? 0 : 1);
      };
    }
    known->add(place);
    auto store = sys.spawn<caf::detached>(
        store_behavior, ctx.database_path, settings.snapshot_every, known,
        ctx.node_metrics ? ctx.node_metrics->for_database("orders.db") : commit_metrics{});
    auto read_model = sys.spawn<caf::detached>(
        read_model_behavior, read_model_path(ctx.database_path),
        ctx.node_metrics ? ctx.node_metrics->for_database("orders-read.db") : commit_metrics{});
    saga::host host{"orders", store, ctx.view, ctx.node_metrics};
    // The read model follows the orders events; orders learns customers from users' events.
    events::subscription_config read;
    read.name = read_model_subscription;
    read.subscriber = "orders";
    read.local_source = store;
    read.sink = read_model;
    events::subscription_config customers;
    customers.name = customers_subscription;
    customers.subscriber = "orders";
    customers.producer = "users";
    customers.view = ctx.view;
    customers.sink = store;
    if (ctx.node_metrics)
      for (auto* cfg : {&read, &customers}) {
        auto lag = ctx.node_metrics->for_subscription(cfg->name);
        cfg->on_progress = [lag](std::int64_t applied, std::int64_t newest) mutable {
          lag.progress(applied, newest);
        };
      }
    auto front = sys.spawn(front_behavior, store, read_model, host, known, ctx.gates,
                           std::vector<events::subscription_config>{read, customers}, ctx.shedding);
    return caf::actor_cast<caf::actor>(front);
  };
  cap.routes = orders_routes();
  cap.projections = {{"orders", [](const std::string& database_path, const auto& progress) {
                        return rebuild_read_model(database_path, read_model_path(database_path),
                                                  progress);
                      }}};
  return cap;
}

}  // namespace troupe::orders
