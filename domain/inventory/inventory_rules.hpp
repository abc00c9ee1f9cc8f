// Business rules of the inventory capability: stock per SKU, all-or-nothing reservations.
// Plain C++, no framework includes. Money is integer minor units (cents), never floating.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace troupe::domain::inventory {

inline constexpr std::size_t max_sku_length = 64;
inline constexpr std::int64_t max_quantity = 1'000'000'000;
inline constexpr std::int64_t max_price = 1'000'000'000'000;  // minor units
inline constexpr std::size_t max_lines = 100;                 // per reservation
inline constexpr std::int64_t max_line_quantity = 1'000'000;

// One SKU's stock. `quantity` is available to reserve; `reserved` is held by reservations
// not yet committed or released. A committed reservation leaves stock for good (sold).
struct stock_item {
  std::string sku;
  std::int64_t quantity = 0;
  std::int64_t reserved = 0;
  std::int64_t price = 0;  // per unit, minor units
  std::string currency;    // ISO 4217 code, e.g. "EUR"
};

// What an order asks for, and what a reservation holds (with the unit price it was made at).
struct line {
  std::string sku;
  std::int64_t quantity = 0;
  std::int64_t price = 0;  // set by the reservation
};

struct violation {
  std::string field;
  std::string message;
};

// SKUs are 1..64 characters of [A-Za-z0-9._-].
bool valid_sku(std::string_view sku);
// Three upper-case ASCII letters.
bool valid_currency(std::string_view currency);

// Checks a stock update; nullopt when every rule holds.
std::optional<violation> check_stock(const stock_item& item);

// Checks what an order asks for: 1..100 lines, valid SKUs, each SKU once, quantities 1..1e6.
// Fields are named like "items[2].quantity".
std::optional<violation> check_lines(const std::vector<line>& lines);

// A reservation that can be made: the lines priced, the total and the currency.
struct reservation_plan {
  std::vector<line> lines;
  std::int64_t total = 0;
  std::string currency;
};

// Why a reservation cannot be made. Nothing is reserved then (all or nothing).
struct refusal {
  enum class kind { unknown_sku, out_of_stock, mixed_currencies } why;
  std::string sku;  // the first line that fails
  std::string message;
};

// Plans reserving `lines` (already checked) against `stock`, where stock[i] is the item of
// lines[i] or nullopt when the SKU is unknown.
std::variant<reservation_plan, refusal> plan_reservation(
    const std::vector<line>& lines, const std::vector<std::optional<stock_item>>& stock);

// State changes of one item; each keeps quantity and reserved >= 0 for a valid input.
void reserve(stock_item& item, std::int64_t n);  // quantity -= n, reserved += n
void release(stock_item& item, std::int64_t n);  // quantity += n, reserved -= n
void commit(stock_item& item, std::int64_t n);   // reserved -= n (the units are sold)

// Setting stock replaces what is available, the price and the currency; units held by
// reservations stay held.
void set_stock(stock_item& item, const stock_item& update);

}  // namespace troupe::domain::inventory
