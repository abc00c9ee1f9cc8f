// The Order aggregate, event-sourced: its state is what its events say, rebuilt by applying
// them in order; commands are decided against the state and answer new events or a
// rejection. Plain C++, no framework includes; serialization lives with the actors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace troupe::domain::orders {

enum class status { none, pending, confirmed, cancelled };
const char* status_name(status s);  // "pending", "confirmed", "cancelled" ("none": no order)

struct line {
  std::string sku;
  std::int64_t quantity = 0;
  std::int64_t price = 0;  // per unit, minor units; 0 until stock is reserved
};

// Events. Each says what happened to one order.
struct order_created {
  std::string customer;
};
struct item_added {
  std::string sku;
  std::int64_t quantity = 0;
};
struct stock_reserved {
  std::string reservation;
  std::vector<line> lines;  // priced by inventory
  std::int64_t total = 0;
  std::string currency;
};
struct payment_charged {
  std::string charge;
  std::int64_t amount = 0;
};
struct order_confirmed {};
struct order_cancelled {
  std::string code;    // why, as an error code: "out_of_stock", "payment_declined", ...
  std::string reason;  // for people
};

using event = std::variant<order_created, item_added, stock_reserved, payment_charged,
                           order_confirmed, order_cancelled>;

// "OrderCreated", "ItemAdded", "StockReserved", "PaymentCharged", "OrderConfirmed",
// "OrderCancelled".
const char* event_type(const event& e);

struct order {
  std::string id;
  std::string customer;
  status state = status::none;
  std::vector<line> items;
  std::string reservation;
  std::string payment;
  std::int64_t total = 0;
  std::string currency;
  std::string cancel_code;
  std::string cancel_reason;
  std::int64_t version = 0;  // events applied
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// Applies one event that happened at `time_ms`. Events come from decide functions, so apply
// does not check them again.
void apply(order& o, const event& e, std::int64_t time_ms);

// Why a command does not fit.
struct rejection {
  enum class kind { invalid, conflict } why;
  std::string field;  // for invalid
  std::string message;
};

using decision = std::variant<std::vector<event>, rejection>;

inline constexpr std::size_t max_items = 100;

// Commands. Each answers the events to append (possibly none: already so) or a rejection.
decision create(const order& o, const std::string& customer, const std::vector<line>& items);
decision add_item(const order& o, const line& item);
decision record_reservation(const order& o, const stock_reserved& reserved);
decision record_payment(const order& o, const payment_charged& charged);
decision confirm(const order& o);
decision cancel(const order& o, const std::string& code, const std::string& reason);

// An id for a new order: "o-" and 16 hex digits of `entropy`.
std::string make_order_id(std::uint64_t entropy);
bool valid_order_id(const std::string& id);

}  // namespace troupe::domain::orders
