// The payments capability's contract: charges a saga makes and refunds (its compensation),
// through a fake card processor configured in the topology. Amounts are integers in minor
// units. Steps carry their idempotency key in the call context; each key is recorded with
// its answer in the same transaction as the charge, so a repeat is charged once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "domain/payments/payment_rules.hpp"
#include "runtime/core/atoms.hpp"
#include "runtime/core/call_context.hpp"
#include "runtime/node/capability.hpp"
#include "runtime/observability/metrics.hpp"
#include "runtime/supervision/child.hpp"

namespace troupe::domain::payments {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, charge& x) {
  return f(caf::meta::type_name("payments.charge"), x.id, x.customer, x.amount, x.currency,
           x.status, x.created_at_ms);
}

}  // namespace troupe::domain::payments

namespace troupe::payments {

using charge = domain::payments::charge;

// The card processor refused the charge (402): a business answer.
// (17: its number while the runtime defined it, which answers stored in ledgers still carry.)
inline constexpr error_code payment_declined{"payment_declined", 402, retry_class::never,
                                             saga_reaction::compensate, 17};

// A saga step: charges `amount` under ctx.idempotency_key (required). Answers the charge
// (status "charged"); payment_declined with the processor's reason; unavailable when the
// processor failed transiently (nothing charged: retry); invalid_argument naming the field;
// compensated when its refund came first.
struct charge_payment {
  call_context ctx;
  std::string customer;
  std::int64_t amount = 0;
  std::string currency;
};

// The compensation of charge_payment: ctx.idempotency_key is the charge step's key. Refunds
// the charge if that step charged (status "refunded"); otherwise leaves a tombstone so a late
// charge does nothing, and answers a charge with empty id and status "none".
struct refund_payment {
  call_context ctx;
};

// Reads one charge. Answers it, or not_found.
struct get_payment {
  call_context ctx;
  std::string id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, charge_payment& x) {
  return f(caf::meta::type_name("payments.charge_payment"), x.ctx, x.customer, x.amount,
           x.currency);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, refund_payment& x) {
  return f(caf::meta::type_name("payments.refund_payment"), x.ctx);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_payment& x) {
  return f(caf::meta::type_name("payments.get_payment"), x.ctx, x.id);
}

using payments_actor = caf::typed_actor<
    caf::replies_to<charge_payment>::with<charge>, caf::replies_to<refund_payment>::with<charge>,
    caf::replies_to<get_payment>::with<charge>, caf::replies_to<health_atom>::with<health_report>>;

// Topology: "capabilities": {"payments": {"decline_over": 100000, "decline_customers":
// ["u-bad"], "failure_rate": 0.0, "latency_ms": 0}}: the fake card processor's behaviour.
using payments_settings = domain::payments::processor_rules;

struct payments_config {
  std::string database_path;
  payments_settings processor;
  bool detached_store = true;
  // Under a supervisor (capability_context::supervise): the store is a child restarted on its
  // own under one-for-one. Empty: the store is spawned once and linked to the front.
  supervise_function supervise;
  // Work that waited longer than its bound in queues is shed (core/error.hpp queue_bound).
  queue_bound shedding{};
  commit_metrics commits{};  // its store's group commits (metrics::for_database)
};

payments_actor spawn_payments(caf::actor_system& system, const payments_config& config);

void register_payments_types(caf::actor_system_config& cfg);

// Name "payments", calls nothing, keeps payments.db; serves GET /api/payments/{id}.
capability payments_capability();

}  // namespace troupe::payments
