#include "domain/payments/payment_rules.hpp"

#include <algorithm>

namespace troupe::domain::payments {

std::optional<violation> check_charge(const std::string& customer, std::int64_t amount,
                                      const std::string& currency) {
  if (customer.empty() || customer.size() > 64)
    return violation{"customer", "must be 1 to 64 characters"};
  if (amount <= 0 || amount > max_amount)
    return violation{"amount",
                     "must be between 1 and " + std::to_string(max_amount) + " (minor units)"};
  bool code = currency.size() == 3 && std::all_of(currency.begin(), currency.end(),
                                                  [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!code) return violation{"currency", "must be a three-letter ISO 4217 code"};
  return std::nullopt;
}

verdict decide(const processor_rules& rules, const std::string& customer, std::int64_t amount,
               double chance) {
  if (chance < rules.failure_rate)
    return {verdict::kind::failed, "the card processor did not answer (transient failure)"};
  if (std::find(rules.decline_customers.begin(), rules.decline_customers.end(), customer) !=
      rules.decline_customers.end())
    return {verdict::kind::declined, "the card was declined for this customer"};
  if (amount > rules.decline_over)
    return {verdict::kind::declined, "the amount " + std::to_string(amount) +
                                         " exceeds the card's limit of " +
                                         std::to_string(rules.decline_over)};
  return {verdict::kind::approved, {}};
}

}  // namespace troupe::domain::payments
