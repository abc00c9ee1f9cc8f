#include "domain/inventory/inventory_rules.hpp"

#include <set>

namespace troupe::domain::inventory {

bool valid_sku(std::string_view sku) {
  if (sku.empty() || sku.size() > max_sku_length) return false;
  for (unsigned char c : sku) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_currency(std::string_view currency) {
  if (currency.size() != 3) return false;
  for (char c : currency)
    if (c < 'A' || c > 'Z') return false;
  return true;
}

std::optional<violation> check_stock(const stock_item& item) {
  if (!valid_sku(item.sku))
    return violation{"sku", "must be 1 to 64 characters of letters, digits, '.', '_' or '-'"};
  if (item.quantity < 0 || item.quantity > max_quantity)
    return violation{"quantity", "must be between 0 and " + std::to_string(max_quantity)};
  if (item.price < 0 || item.price > max_price)
    return violation{"price", "must be between 0 and " + std::to_string(max_price) +
                                  " (minor units, e.g. cents)"};
  if (!valid_currency(item.currency))
    return violation{"currency", "must be a three-letter ISO 4217 code such as \"EUR\""};
  return std::nullopt;
}

std::optional<violation> check_lines(const std::vector<line>& lines) {
  if (lines.empty()) return violation{"items", "must list at least one item"};
  if (lines.size() > max_lines)
    return violation{"items", "must list at most " + std::to_string(max_lines) + " items"};
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto at = "items[" + std::to_string(i) + "]";
    auto& l = lines[i];
    if (!valid_sku(l.sku))
      return violation{at + ".sku",
                       "must be 1 to 64 characters of letters, digits, '.', '_' or '-'"};
    if (!seen.insert(l.sku).second)
      return violation{at + ".sku", "'" + l.sku + "' is listed twice; list each SKU once"};
    if (l.quantity < 1 || l.quantity > max_line_quantity)
      return violation{at + ".quantity",
                       "must be between 1 and " + std::to_string(max_line_quantity)};
  }
  return std::nullopt;
}

std::variant<reservation_plan, refusal> plan_reservation(
    const std::vector<line>& lines, const std::vector<std::optional<stock_item>>& stock) {
  reservation_plan plan;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto& want = lines[i];
    auto& have = stock.at(i);
    if (!have)
      return refusal{refusal::kind::unknown_sku, want.sku, "no stock of '" + want.sku + "'"};
    if (have->quantity < want.quantity)
      return refusal{refusal::kind::out_of_stock, want.sku,
                     "'" + want.sku + "': " + std::to_string(want.quantity) + " requested, " +
                         std::to_string(have->quantity) + " available"};
    if (plan.currency.empty()) plan.currency = have->currency;
    if (have->currency != plan.currency)
      return refusal{refusal::kind::mixed_currencies, want.sku,
                     "'" + want.sku + "' is priced in " + have->currency + ", other items in " +
                         plan.currency + "; an order is in one currency"};
    plan.lines.push_back({want.sku, want.quantity, have->price});
    // Bounded: at most 100 lines x 1e6 units x 1e12 would overflow, so check as we go.
    if (have->price > 0 && want.quantity > (INT64_MAX - plan.total) / have->price)
      return refusal{refusal::kind::out_of_stock, want.sku, "the order's total is too large"};
    plan.total += want.quantity * have->price;
  }
  return plan;
}

void reserve(stock_item& item, std::int64_t n) {
  item.quantity -= n;
  item.reserved += n;
}

void release(stock_item& item, std::int64_t n) {
  item.quantity += n;
  item.reserved -= n;
}

void commit(stock_item& item, std::int64_t n) {
  item.reserved -= n;
}

void set_stock(stock_item& item, const stock_item& update) {
  item.sku = update.sku;
  item.quantity = update.quantity;
  item.price = update.price;
  item.currency = update.currency;
}

}  // namespace troupe::domain::inventory
