#include "domain/orders/order.hpp"

#include <cstdio>

namespace troupe::domain::orders {

namespace {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

rejection conflict(const order& o, const std::string& what) {
  return {rejection::kind::conflict,
          {},
          "cannot " + what + ": order '" + o.id + "' is " + status_name(o.state)};
}

decision events(std::vector<event> out) {
  return out;
}

}  // namespace

const char* status_name(status s) {
  switch (s) {
    case status::pending:
      return "pending";
    case status::confirmed:
      return "confirmed";
    case status::cancelled:
      return "cancelled";
    default:
      return "none";
  }
}

const char* event_type(const event& e) {
  return std::visit(overloaded{
                        [](const order_created&) { return "OrderCreated"; },
                        [](const item_added&) { return "ItemAdded"; },
                        [](const stock_reserved&) { return "StockReserved"; },
                        [](const payment_charged&) { return "PaymentCharged"; },
                        [](const order_confirmed&) { return "OrderConfirmed"; },
                        [](const order_cancelled&) { return "OrderCancelled"; },
                    },
                    e);
}

void apply(order& o, const event& e, std::int64_t time_ms) {
  std::visit(overloaded{
                 [&](const order_created& x) {
                   o.customer = x.customer;
                   o.state = status::pending;
                   o.created_at_ms = time_ms;
                 },
                 [&](const item_added& x) {
                   o.items.push_back({x.sku, x.quantity, 0});
                 },
                 [&](const stock_reserved& x) {
                   o.reservation = x.reservation;
                   o.items = x.lines;
                   o.total = x.total;
                   o.currency = x.currency;
                 },
                 [&](const payment_charged& x) { o.payment = x.charge; },
                 [&](const order_confirmed&) { o.state = status::confirmed; },
                 [&](const order_cancelled& x) {
                   o.state = status::cancelled;
                   o.cancel_code = x.code;
                   o.cancel_reason = x.reason;
                 },
             },
             e);
  ++o.version;
  o.updated_at_ms = time_ms;
}

decision create(const order& o, const std::string& customer, const std::vector<line>& items) {
  if (o.state != status::none)
    return rejection{rejection::kind::conflict, {}, "order '" + o.id + "' exists already"};
  if (customer.empty() || customer.size() > 64)
    return rejection{rejection::kind::invalid, "customer", "must be 1 to 64 characters"};
  if (items.empty() || items.size() > max_items)
    return rejection{rejection::kind::invalid, "items",
                     "must list 1 to " + std::to_string(max_items) + " items"};
  std::vector<event> out{order_created{customer}};
  for (auto& i : items) {
    if (i.quantity < 1)
      return rejection{rejection::kind::invalid, "items", "quantities must be at least 1"};
    out.push_back(item_added{i.sku, i.quantity});
  }
  return out;
}

decision add_item(const order& o, const line& item) {
  if (o.state != status::pending || !o.reservation.empty())
    return conflict(
        o, o.state == status::pending ? "add an item after stock was reserved" : "add an item");
  if (o.items.size() >= max_items)
    return rejection{rejection::kind::invalid, "items",
                     "an order holds at most " + std::to_string(max_items) + " items"};
  if (item.quantity < 1)
    return rejection{rejection::kind::invalid, "quantity", "must be at least 1"};
  return events({item_added{item.sku, item.quantity}});
}

decision record_reservation(const order& o, const stock_reserved& reserved) {
  if (o.state != status::pending) return conflict(o, "record a reservation");
  if (o.reservation == reserved.reservation) return events({});  // already recorded
  if (!o.reservation.empty())
    return rejection{rejection::kind::conflict,
                     {},
                     "order '" + o.id + "' holds reservation '" + o.reservation + "' already"};
  if (reserved.lines.size() != o.items.size())
    return rejection{rejection::kind::invalid, "lines",
                     "the reservation does not cover the order's items"};
  for (std::size_t i = 0; i < o.items.size(); ++i)
    if (reserved.lines[i].sku != o.items[i].sku ||
        reserved.lines[i].quantity != o.items[i].quantity)
      return rejection{rejection::kind::invalid, "lines",
                       "the reservation does not match item " + std::to_string(i)};
  return events({reserved});
}

decision record_payment(const order& o, const payment_charged& charged) {
  if (o.state != status::pending) return conflict(o, "record a payment");
  if (o.payment == charged.charge) return events({});
  if (o.reservation.empty())
    return rejection{rejection::kind::conflict, {}, "order '" + o.id + "' has no reservation yet"};
  if (!o.payment.empty())
    return rejection{rejection::kind::conflict,
                     {},
                     "order '" + o.id + "' is paid by '" + o.payment + "' already"};
  if (charged.amount != o.total)
    return rejection{rejection::kind::invalid, "amount",
                     "the charge of " + std::to_string(charged.amount) +
                         " does not match the total " + std::to_string(o.total)};
  return events({charged});
}

decision confirm(const order& o) {
  if (o.state == status::confirmed) return events({});
  if (o.state != status::pending) return conflict(o, "confirm");
  if (o.reservation.empty() || (o.payment.empty() && o.total > 0))
    return rejection{rejection::kind::conflict,
                     {},
                     "order '" + o.id + "' cannot be confirmed before stock and payment"};
  return events({order_confirmed{}});
}

decision cancel(const order& o, const std::string& code, const std::string& reason) {
  if (o.state == status::cancelled) return events({});
  if (o.state != status::pending) return conflict(o, "cancel");
  return events({order_cancelled{code, reason}});
}

std::string make_order_id(std::uint64_t entropy) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "o-%016llx", static_cast<unsigned long long>(entropy));
  return buf;
}

bool valid_order_id(const std::string& id) {
  if (id.size() != 18 || id.compare(0, 2, "o-") != 0) return false;
  for (std::size_t i = 2; i < id.size(); ++i) {
    char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace troupe::domain::orders
