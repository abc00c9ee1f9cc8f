// The place-order saga: check customer (with a fallback while users is not answering: the
// customers orders knows from users' events) -> create pending order -> reserve stock -> charge
// payment -> confirm order -> commit the reservation. Confirming is the point of no return:
// it and the commit after it are retried until they are done; before it, a failure
// compensates in reverse (refund, release, cancel). The customer check reads only (no log
// row before it); creating and confirming are local steps, each written in one transaction
// with the saga's next log row; the row written with the pending order covers both the
// reservation and the charge (pipelined). The client is answered once the confirmation is
// written.
#include "actors/inventory/inventory_protocol.hpp"
#include "actors/orders/orders_events.hpp"
#include "actors/orders/orders_protocol.hpp"
#include "actors/orders/orders_store.hpp"
#include "actors/payments/payments_protocol.hpp"
#include "actors/users/users_protocol.hpp"
#include "runtime/core/error.hpp"

namespace troupe::orders {

namespace {

using json = nlohmann::json;
using saga::step_context;

json nothing_to_keep() {
  return json::object();
}

std::vector<inventory::line> wanted_lines(const json& data) {
  std::vector<inventory::line> out;
  for (auto& l : data.at("items"))
    out.push_back({l.at("sku").get<std::string>(), l.at("quantity").get<std::int64_t>(), 0});
  return out;
}

void check_customer(step_context& ctx) {
  auto customer = ctx.data().at("customer").get<std::string>();
  ctx.call<users::user>(
      "users", users::get_user{{}, customer},
      [](users::user& u) {
        return json{{"customer_name", u.name}, {"customer_check", "verified"}};
      },
      [customer](const caf::error& err) {
        if (describe(err).code == errc::not_found)
          return make_error(unknown_customer, "no customer '" + customer + "'", "customer");
        return err;
      });
}

// Users is not answering: the customers orders learnt from users' UserCreated events stand
// in. A customer orders never heard of is not accepted blindly.
caf::expected<json> check_customer_locally(const saga::local_context& c, const caf::error&) {
  auto customer = c.data.at("customer").get<std::string>();
  if (auto name = customer_name(c.db, customer))
    return json{{"customer_name", *name}, {"customer_check", "fallback"}};
  return make_error(errc::unavailable,
                    "users is unavailable and orders has no record of customer '" + customer +
                        "'; try again later",
                    {}, std::chrono::seconds{1});
}

// The context a local step's events carry: the saga's trace, its step key.
call_context local_call(const saga::local_context& c) {
  call_context ctx;
  ctx.trace_id = c.trace_id;
  ctx.caller = "orders";
  ctx.idempotency_key = c.key;
  return ctx;
}

// Local: the pending order is written with the saga's next log row.
caf::expected<json> create(const saga::local_context& c, std::int64_t snapshot_every) {
  std::vector<line> items;
  for (auto& l : wanted_lines(c.data)) items.push_back({l.sku, l.quantity, 0});
  create_order cmd{local_call(c), c.data.at("order_id").get<std::string>(),
                   c.data.at("customer").get<std::string>(), std::move(items)};
  auto done = create_once(c.db, c.system, cmd, snapshot_every);
  if (!done) return done.error();
  return json{{"created", true}};
}

void cancel(step_context& ctx) {
  auto& data = ctx.data();
  auto failure = data.value("failure", json::object());
  ctx.call<order_view>("orders",
                       cancel_order{{},
                                    data.at("order_id").get<std::string>(),
                                    failure.value("code", "cancelled"),
                                    failure.value("message", "the order was cancelled")},
                       [](order_view&) { return nothing_to_keep(); });
}

void reserve(step_context& ctx) {
  ctx.call<inventory::reservation>("inventory",
                                   inventory::reserve_stock{{}, wanted_lines(ctx.data())},
                                   [](inventory::reservation& r) {
                                     std::vector<line> priced;
                                     for (auto& l : r.lines)
                                       priced.push_back({l.sku, l.quantity, l.price});
                                     return json{{"reservation", r.id},
                                                 {"lines", lines_json(priced)},
                                                 {"total", r.total},
                                                 {"currency", r.currency}};
                                   });
}

void release(step_context& ctx) {
  ctx.call<inventory::reservation>("inventory", inventory::release_reservation{},
                                   [](inventory::reservation&) { return nothing_to_keep(); });
}

void charge(step_context& ctx) {
  auto& data = ctx.data();
  auto total = data.at("total").get<std::int64_t>();
  if (total == 0) return ctx.succeed({{"charge", ""}});  // nothing to pay
  ctx.call<payments::charge>("payments",
                             payments::charge_payment{{},
                                                      data.at("customer").get<std::string>(),
                                                      total,
                                                      data.at("currency").get<std::string>()},
                             [](payments::charge& c) {
                               return json{{"charge", c.id}};
                             });
}

void refund(step_context& ctx) {
  ctx.call<payments::charge>("payments", payments::refund_payment{},
                             [](payments::charge&) { return nothing_to_keep(); });
}

// Local: the confirmation is written with the saga's next log row.
caf::expected<json> confirm(const saga::local_context& c, std::int64_t snapshot_every) {
  auto& data = c.data;
  confirm_order cmd{local_call(c),
                    data.at("order_id").get<std::string>(),
                    data.at("reservation").get<std::string>(),
                    lines_from(data.at("lines")),
                    data.at("total").get<std::int64_t>(),
                    data.at("currency").get<std::string>(),
                    data.at("charge").get<std::string>(),
                    data.at("total").get<std::int64_t>()};
  auto done = confirm_once(c.db, c.system, cmd, snapshot_every);
  if (!done) return done.error();
  return nothing_to_keep();
}

void commit(step_context& ctx) {
  ctx.call<inventory::reservation>(
      "inventory",
      inventory::commit_reservation{{}, ctx.data().at("reservation").get<std::string>()},
      [](inventory::reservation&) { return nothing_to_keep(); });
}

json reply(const json& data, const json& failure) {
  if (failure.is_null())
    return {{"order",
             {{"id", data.at("order_id")},
              {"status", "confirmed"},
              {"customer", data.at("customer")},
              {"items", data.at("lines")},
              {"total", data.at("total")},
              {"currency", data.at("currency")},
              {"payment", data.at("charge")},
              {"customer_check", data.value("customer_check", "verified")}}}};
  json error = {{"code", failure.value("code", "internal")},
                {"message", failure.value("message", "")}};
  if (failure.contains("field")) error["field"] = failure["field"];
  json out = {{"error", error}};
  if (data.value("created", false)) out["order_id"] = data.at("order_id");
  return out;
}

}  // namespace

std::shared_ptr<const saga::definition> place_order_saga(const orders_settings& settings) {
  auto d = std::make_shared<saga::definition>();
  d->name = place_order_name;
  d->version = place_order_version;
  d->max_attempts = settings.step_attempts;
  d->step_timeout = settings.step_timeout;
  d->retry.max = settings.retry_backoff_max;
  auto every = settings.snapshot_every;
  auto make = [](std::string name, auto action, auto compensation, bool until_done) {
    saga::step s;
    s.name = std::move(name);
    s.action = std::move(action);
    s.compensation = std::move(compensation);
    s.retry_until_done = until_done;
    return s;
  };
  using none = std::function<void(step_context&)>;
  auto check = make("check_customer", check_customer, none{}, false);
  check.read_only = true;
  check.fallback = check_customer_locally;
  auto create_step = make("create", none{}, cancel, false);
  create_step.local = [every](const saga::local_context& c) { return create(c, every); };
  // Charging follows the reservation without a log write of its own: the row written with
  // the pending order names it as possibly sent, and refunding a charge that never happened
  // leaves a tombstone.
  auto charge_step = make("charge", charge, refund, false);
  charge_step.pipelined = true;
  auto confirm_step = make("confirm", none{}, none{}, true);
  confirm_step.local = [every](const saga::local_context& c) { return confirm(c, every); };
  auto reserve_step = make("reserve", reserve, release, false);
  auto commit_step = make("commit", commit, none{}, true);
  d->steps = {check, create_step, reserve_step, charge_step, confirm_step, commit_step};
  d->reply = reply;
  // The article's span attributes; the total once the reservation has priced the order.
  d->span_attributes = [](const json& data) {
    std::vector<std::pair<std::string, tracing::attribute_value>> out;
    for (auto [key, name] : {std::pair{"order_id", "order.id"},
                             {"customer", "order.customer"},
                             {"currency", "order.currency"}})
      if (auto it = data.find(key); it != data.end() && it->is_string())
        out.emplace_back(name, it->get<std::string>());
    if (auto it = data.find("total"); it != data.end() && it->is_number_integer())
      out.emplace_back("order.total", it->get<std::int64_t>());
    return out;
  };
  return d;
}

}  // namespace troupe::orders
