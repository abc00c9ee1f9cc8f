#include "actors/inventory/inventory_routes.hpp"

#include "runtime/core/error.hpp"
#include "runtime/http/route.hpp"

namespace troupe::inventory {

caf::expected<set_stock> set_stock_from_json(const std::string& sku, const nlohmann::json& body) {
  if (!body.is_object())
    return make_error(errc::invalid_argument, "the body must be a JSON object");
  set_stock cmd;
  cmd.item.sku = sku;
  for (auto& [key, value] : body.items()) {
    if (key == "quantity" || key == "price") {
      if (!value.is_number_integer())
        return make_error(
            errc::invalid_argument,
            key + " must be an integer" + (key == "price" ? " in minor units (e.g. cents)" : ""),
            key);
      (key == "quantity" ? cmd.item.quantity : cmd.item.price) = value.get<std::int64_t>();
    } else if (key == "currency") {
      if (!value.is_string())
        return make_error(errc::invalid_argument, "currency must be a string", key);
      cmd.item.currency = value.get<std::string>();
    } else {
      return make_error(errc::invalid_argument,
                        "unknown field '" + key + "' (allowed: quantity, price, currency)", key);
    }
  }
  for (auto field : {"quantity", "price", "currency"})
    if (!body.contains(field))
      return make_error(errc::invalid_argument, std::string(field) + " is required", field);
  return cmd;
}

nlohmann::json stock_json(const stock_item& item) {
  return {{"sku", item.sku},
          {"quantity", item.quantity},
          {"reserved", item.reserved},
          {"price", item.price},
          {"currency", item.currency}};
}

std::vector<route> inventory_routes() {
  auto to_response = [](stock_item& item) { return json_response(200, stock_json(item)); };
  return {
      with_scope(
          make_route<stock_item>(
              http_method::put, "/api/inventory/{sku}", stock_body_limit,
              [](const route_input& in) { return set_stock_from_json(in.param(0), in.body); },
              to_response),
          "inventory:write"),
      make_route<stock_item>(
          http_method::get, "/api/inventory/{sku}", no_body,
          [](const route_input& in) -> caf::expected<get_stock> {
            return get_stock{{}, in.param(0)};
          },
          to_response),
  };
}

}  // namespace troupe::inventory
