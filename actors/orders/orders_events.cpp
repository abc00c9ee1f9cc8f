#include "actors/orders/orders_events.hpp"

#include <stdexcept>

#include "runtime/events/typed_event.hpp"

namespace troupe::orders {

namespace {

namespace d = troupe::domain::orders;
using json = nlohmann::json;

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

d::status status_from(const std::string& s) {
  if (s == "pending") return d::status::pending;
  if (s == "confirmed") return d::status::confirmed;
  if (s == "cancelled") return d::status::cancelled;
  return d::status::none;
}

}  // namespace

json lines_json(const std::vector<d::line>& lines) {
  json out = json::array();
  for (auto& l : lines)
    out.push_back({{"sku", l.sku}, {"quantity", l.quantity}, {"price", l.price}});
  return out;
}

std::vector<d::line> lines_from(const json& j) {
  std::vector<d::line> out;
  if (!j.is_array()) return out;
  for (auto& l : j)
    out.push_back({l.value("sku", ""), l.value("quantity", std::int64_t{0}),
                   l.value("price", std::int64_t{0})});
  return out;
}

json event_payload(const d::event& e) {
  return std::visit(overloaded{
                        [](const d::order_created& x) -> json {
                          return {{"customer", x.customer}};
                        },
                        [](const d::item_added& x) -> json {
                          return {{"sku", x.sku}, {"quantity", x.quantity}};
                        },
                        [](const d::stock_reserved& x) -> json {
                          return {{"reservation", x.reservation},
                                  {"lines", lines_json(x.lines)},
                                  {"total", x.total},
                                  {"currency", x.currency}};
                        },
                        [](const d::payment_charged& x) -> json {
                          return {{"charge", x.charge}, {"amount", x.amount}};
                        },
                        [](const d::order_confirmed&) -> json { return json::object(); },
                        [](const d::order_cancelled& x) -> json {
                          return {{"code", x.code}, {"reason", x.reason}};
                        },
                    },
                    e);
}

namespace {

std::optional<d::event> decode(const std::string& type, const json& p) {
  if (type == "OrderCreated") return d::order_created{p.value("customer", "")};
  if (type == "ItemAdded")
    return d::item_added{p.value("sku", ""), p.value("quantity", std::int64_t{0})};
  if (type == "StockReserved")
    return d::stock_reserved{p.value("reservation", ""), lines_from(p.value("lines", json())),
                             p.value("total", std::int64_t{0}), p.value("currency", "")};
  if (type == "PaymentCharged")
    return d::payment_charged{p.value("charge", ""), p.value("amount", std::int64_t{0})};
  if (type == "OrderConfirmed") return d::order_confirmed{};
  if (type == "OrderCancelled")
    return d::order_cancelled{p.value("code", ""), p.value("reason", "")};
  return std::nullopt;
}

}  // namespace

std::optional<d::event> event_from(const std::string& type, const json& p) {
  try {
    return decode(type, p);
  } catch (const json::exception& e) {
    throw std::invalid_argument("malformed " + type + " event: " + e.what());
  }
}

std::optional<users::user_created> customer_from(const events::event_envelope& e) {
  try {
    return events::event_as<users::user_created>(e);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

json order_state_json(const d::order& o) {
  return {{"id", o.id},
          {"customer", o.customer},
          {"status", d::status_name(o.state)},
          {"items", lines_json(o.items)},
          {"reservation", o.reservation},
          {"payment", o.payment},
          {"total", o.total},
          {"currency", o.currency},
          {"cancel_code", o.cancel_code},
          {"cancel_reason", o.cancel_reason},
          {"version", o.version},
          {"created_at_ms", o.created_at_ms},
          {"updated_at_ms", o.updated_at_ms}};
}

d::order order_state_from(const json& j) {
  d::order o;
  o.id = j.value("id", "");
  o.customer = j.value("customer", "");
  o.state = status_from(j.value("status", ""));
  o.items = lines_from(j.value("items", json()));
  o.reservation = j.value("reservation", "");
  o.payment = j.value("payment", "");
  o.total = j.value("total", std::int64_t{0});
  o.currency = j.value("currency", "");
  o.cancel_code = j.value("cancel_code", "");
  o.cancel_reason = j.value("cancel_reason", "");
  o.version = j.value("version", std::int64_t{0});
  o.created_at_ms = j.value("created_at_ms", std::int64_t{0});
  o.updated_at_ms = j.value("updated_at_ms", std::int64_t{0});
  return o;
}

}  // namespace troupe::orders
