// Business rules of the payments capability: what a charge must satisfy, and the decisions
// of the built-in fake card processor that stands in for the outside world. Plain C++.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe::domain::payments {

inline constexpr std::int64_t max_amount = 1'000'000'000'000;  // minor units

struct charge {
  std::string id;
  std::string customer;
  std::int64_t amount = 0;  // minor units
  std::string currency;
  std::string status;  // "charged" or "refunded"
  std::int64_t created_at_ms = 0;
};

struct violation {
  std::string field;
  std::string message;
};

std::optional<violation> check_charge(const std::string& customer, std::int64_t amount,
                                      const std::string& currency);

// The fake processor's rules, from the topology's "payments" settings.
struct processor_rules {
  std::int64_t decline_over = 100000;          // amounts above this are declined
  std::vector<std::string> decline_customers;  // these customers are always declined
  double failure_rate = 0.0;                   // share of calls failing transiently (0..1)
  std::int64_t latency_ms = 0;                 // how long the processor takes to answer
};

struct verdict {
  enum class kind { approved, declined, failed } outcome;
  std::string reason;  // for declined and failed
};

// `chance` is uniform in [0, 1): the processor's coin for transient failures.
verdict decide(const processor_rules& rules, const std::string& customer, std::int64_t amount,
               double chance);

}  // namespace troupe::domain::payments
