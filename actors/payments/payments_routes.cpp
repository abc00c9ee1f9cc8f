#include "actors/payments/payments_routes.hpp"

#include "runtime/core/time.hpp"
#include "runtime/http/route.hpp"

namespace troupe::payments {

nlohmann::json charge_json(const charge& c) {
  return {{"id", c.id},         {"customer", c.customer},
          {"amount", c.amount}, {"currency", c.currency},
          {"status", c.status}, {"created_at", format_utc_ms(c.created_at_ms)}};
}

std::vector<route> payments_routes() {
  return {
      make_route<charge>(
          http_method::get, "/api/payments/{id}", no_body,
          [](const route_input& in) -> caf::expected<get_payment> {
            return get_payment{{}, in.param(0)};
          },
          [](charge& c) { return json_response(200, charge_json(c)); }),
  };
}

}  // namespace troupe::payments
