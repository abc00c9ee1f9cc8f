#include <nlohmann/json.hpp>

#include <caf/all.hpp>

#include "actors/inventory/inventory_protocol.hpp"
#include "actors/inventory/inventory_routes.hpp"
#include "actors/inventory/inventory_store.hpp"
#include "runtime/core/error.hpp"
#include "runtime/core/ids.hpp"
#include "runtime/core/time.hpp"
#include "runtime/events/outbox.hpp"
#include "runtime/events/store.hpp"
#include "runtime/saga/ledger.hpp"
#include "runtime/storage/store_link.hpp"

namespace troupe::inventory {

namespace {

namespace rules = troupe::domain::inventory;
using json = nlohmann::json;

json lines_json(const std::vector<line>& lines) {
  json out = json::array();
  for (auto& l : lines)
    out.push_back({{"sku", l.sku}, {"quantity", l.quantity}, {"price", l.price}});
  return out;
}

void publish(sqlite::database& db, const call_context& ctx, std::string type, std::string aggregate,
             const json& payload) {
  events::event_envelope e;
  e.type = std::move(type);
  e.source = "inventory";
  e.aggregate_id = std::move(aggregate);
  e.trace_id = ctx.trace_id;
  e.payload = payload.dump();
  events::append(db, e);
}

struct store_state {
  static inline const char* name = "inventory.store";
  std::unique_ptr<events::store_core> core;
};

using store_actor = caf::stateful_actor<store_state>;

caf::behavior store_behavior(store_actor* self, std::string path, commit_metrics commits) {
  self->set_exception_handler(exit_reason_of);
  auto& st = self->state;
  st.core = std::make_unique<events::store_core>(self, path, sqlite::batch_limits{}, commits);
  migrate_inventory(st.core->db);
  saga::migrate_ledger(st.core->db);
  auto& db = st.core->db;
  auto& sys = self->system();
  return caf::message_handler{
      [self, &db](set_stock& cmd) -> caf::result<stock_item> {
        auto rp = self->make_response_promise<stock_item>();
        self->state.core->answer(
            rp, parent_of(cmd.ctx), "inventory.set", [&]() -> caf::expected<stock_item> {
              auto item =
                  find_stock(db, cmd.item.sku).value_or(stock_item{cmd.item.sku, 0, 0, 0, ""});
              rules::set_stock(item, cmd.item);
              save_stock(db, item, unix_now_ms());
              publish(db, cmd.ctx, "StockSet", item.sku,
                      {{"quantity", item.quantity},
                       {"price", item.price},
                       {"currency", item.currency}});
              return item;
            });
        return rp;
      },
      [self, &db](get_stock& query) -> caf::result<stock_item> {
        auto rp = self->make_response_promise<stock_item>();
        self->state.core->answer(rp, parent_of(query.ctx), "", [&]() -> caf::expected<stock_item> {
          if (auto item = find_stock(db, query.sku)) return *item;
          return make_error(errc::not_found, "no stock of '" + query.sku + "'");
        });
        return rp;
      },
      [self, &db, &sys](reserve_stock& cmd) -> caf::result<reservation> {
        auto rp = self->make_response_promise<reservation>();
        self->state.core->answer(rp, parent_of(cmd.ctx), "inventory.reserve", [&] {
          return saga::step_once<
              reservation>(db, sys, cmd.ctx.idempotency_key, [&]() -> caf::expected<reservation> {
            std::vector<std::optional<stock_item>> stock;
            for (auto& l : cmd.lines) stock.push_back(find_stock(db, l.sku));
            auto plan = rules::plan_reservation(cmd.lines, stock);
            if (auto no = std::get_if<rules::refusal>(&plan)) {
              std::size_t at = 0;
              while (at < cmd.lines.size() && cmd.lines[at].sku != no->sku) ++at;
              auto field = "items[" + std::to_string(at) + "]";
              if (no->why == rules::refusal::kind::out_of_stock)
                return make_error(out_of_stock, no->message, field + ".quantity");
              return make_error(errc::invalid_argument, no->message, field + ".sku");
            }
            auto& p = std::get<rules::reservation_plan>(plan);
            auto now = unix_now_ms();
            for (std::size_t i = 0; i < p.lines.size(); ++i) {
              rules::reserve(*stock[i], p.lines[i].quantity);
              save_stock(db, *stock[i], now);
            }
            reservation r{"r-" + time_ordered_hex64(), "reserved", p.lines, p.total, p.currency};
            insert_reservation(db, r, cmd.ctx.idempotency_key, now);
            publish(db, cmd.ctx, "StockReserved", r.id,
                    {{"lines", lines_json(r.lines)}, {"total", r.total}, {"currency", r.currency}});
            return r;
          });
        });
        return rp;
      },
      [self, &db, &sys](release_reservation& cmd) -> caf::result<reservation> {
        auto rp = self->make_response_promise<reservation>();
        self->state.core->answer(rp, parent_of(cmd.ctx), "inventory.release", [&] {
          auto& key = cmd.ctx.idempotency_key;
          auto undo = [&]() -> caf::expected<reservation> {
            auto r = find_reservation_by_key(db, key);
            if (!r) return reservation{"", "none", {}, 0, ""};  // the reserve was refused
            if (r->state != "reserved") return *r;  // committed or released before: as it is
            auto now = unix_now_ms();
            for (auto& l : r->lines) {
              auto item = find_stock(db, l.sku);
              if (!item) continue;  // cannot happen: SKUs are never deleted
              rules::release(*item, l.quantity);
              save_stock(db, *item, now);
            }
            set_reservation_state(db, r->id, "released", now);
            r->state = "released";
            publish(db, cmd.ctx, "ReservationReleased", r->id, {{"lines", lines_json(r->lines)}});
            return *r;
          };
          auto nothing = [] { return reservation{"", "none", {}, 0, ""}; };
          return saga::compensate_once<reservation>(db, sys, key, undo, nothing);
        });
        return rp;
      },
      [self, &db, &sys](commit_reservation& cmd) -> caf::result<reservation> {
        auto rp = self->make_response_promise<reservation>();
        self->state.core->answer(rp, parent_of(cmd.ctx), "inventory.commit", [&] {
          return saga::step_once<
              reservation>(db, sys, cmd.ctx.idempotency_key, [&]() -> caf::expected<reservation> {
            auto r = find_reservation(db, cmd.reservation_id);
            if (!r)
              return make_error(errc::not_found, "no reservation '" + cmd.reservation_id + "'");
            if (r->state == "committed") return *r;
            if (r->state != "reserved")
              return make_error(errc::conflict,
                                "reservation '" + r->id + "' is " + r->state + "; cannot commit");
            auto now = unix_now_ms();
            for (auto& l : r->lines) {
              auto item = find_stock(db, l.sku);
              if (!item) continue;
              rules::commit(*item, l.quantity);
              save_stock(db, *item, now);
            }
            set_reservation_state(db, r->id, "committed", now);
            r->state = "committed";
            publish(db, cmd.ctx, "ReservationCommitted", r->id, {{"lines", lines_json(r->lines)}});
            return *r;
          });
        });
        return rp;
      },
  }
      .or_else(st.core->handlers());
}

struct front_state {
  static inline const char* name = "inventory.front";
  store_link store;
};

inventory_actor::behavior_type front_behavior(inventory_actor::stateful_pointer<front_state> self,
                                              std::shared_ptr<child_ref> store, bool linked,
                                              queue_bound shedding) {
  self->set_exception_handler(exit_reason_of);
  // Unsupervised: one fate with the store. Supervised, the store may restart alone.
  if (linked) self->link_to(store->get());
  self->state.store = store_link{std::move(store), "inventory"};
  self->set_down_handler([self](caf::down_msg& down) { self->state.store.store_down(down); });
  auto late = [self, shedding](const call_context& ctx, std::string_view operation) {
    return shedding.refuse(self, ctx, operation);
  };
  return {
      [self, late](set_stock& cmd) -> caf::result<stock_item> {
        if (auto refused = late(cmd.ctx, "set_stock")) return refused;
        if (auto v = rules::check_stock(cmd.item))
          return make_error(errc::invalid_argument, v->field + " " + v->message, v->field);
        return self->state.store.ask<stock_item>(self, std::move(cmd));
      },
      [self, late](get_stock& query) -> caf::result<stock_item> {
        if (auto refused = late(query.ctx, "get_stock")) return refused;
        if (!rules::valid_sku(query.sku))
          return make_error(errc::not_found, "no stock of '" + query.sku + "'");
        return self->state.store.ask<stock_item>(self, std::move(query));
      },
      [self, late](reserve_stock& cmd) -> caf::result<reservation> {
        if (auto refused = late(cmd.ctx, "reserve_stock")) return refused;
        if (auto v = rules::check_lines(cmd.lines))
          return make_error(errc::invalid_argument, v->field + " " + v->message, v->field);
        return self->state.store.ask<reservation>(self, std::move(cmd));
      },
      // Compensations run even past the caller's deadline: undoing must not be skipped.
      [self, shedding](release_reservation& cmd) -> caf::result<reservation> {
        if (auto forbidden = shedding.forbid(cmd.ctx, "release_reservation")) return forbidden;
        return self->state.store.ask<reservation>(self, std::move(cmd));
      },
      [self, shedding](commit_reservation& cmd) -> caf::result<reservation> {
        if (auto forbidden = shedding.forbid(cmd.ctx, "commit_reservation")) return forbidden;
        return self->state.store.ask<reservation>(self, std::move(cmd));
      },
      [self](health_atom) {
        return health_report{{"inventory", true,
                              "serving; " + std::to_string(self->state.store.backlog()) +
                                  " requests waiting for the store"}};
      },
  };
}

}  // namespace

inventory_actor spawn_inventory(caf::actor_system& system, const inventory_config& config) {
  bool supervised = static_cast<bool>(config.supervise);
  auto store = spawn_store(system, config.supervise, store_behavior, config.database_path,
                           config.detached_store, config.commits);
  return system.spawn(front_behavior, store, !supervised, config.shedding);
}

void register_inventory_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<stock_item>("inventory.stock_item");
  cfg.add_message_type<line>("inventory.line");
  cfg.add_message_type<std::vector<line>>("inventory.lines");
  cfg.add_message_type<set_stock>("inventory.set_stock");
  cfg.add_message_type<get_stock>("inventory.get_stock");
  cfg.add_message_type<reservation>("inventory.reservation");
  cfg.add_message_type<reserve_stock>("inventory.reserve_stock");
  cfg.add_message_type<release_reservation>("inventory.release_reservation");
  cfg.add_message_type<commit_reservation>("inventory.commit_reservation");
}

capability inventory_capability() {
  capability cap;
  cap.name = "inventory";
  cap.operations = {"set_stock", "get_stock", "reserve_stock", "release_reservation",
                    "commit_reservation"};
  cap.errors = {out_of_stock};
  cap.has_database = true;
  cap.register_types = register_inventory_types;
  cap.spawn = [](const capability_context& ctx) {
    inventory_config cfg{ctx.database_path, true, ctx.supervise, ctx.shedding};
    if (ctx.node_metrics) cfg.commits = ctx.node_metrics->for_database("inventory.db");
    return caf::actor_cast<caf::actor>(spawn_inventory(*ctx.system, cfg));
  };
  cap.routes = inventory_routes();
  return cap;
}

}  // namespace troupe::inventory
