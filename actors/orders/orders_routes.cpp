#include "actors/orders/orders_routes.hpp"

#include "runtime/core/error.hpp"
#include "runtime/core/json.hpp"
#include "runtime/core/time.hpp"
#include "runtime/http/route.hpp"

namespace troupe::orders {

namespace {

using json = nlohmann::json;

caf::error bad(const std::string& message, const std::string& field) {
  return make_error(errc::invalid_argument, message, field);
}

// An item as {"sku", "quantity"}; `at` names it in errors ("items[2]").
caf::expected<line> line_from(const json& item, const std::string& at) {
  if (!item.is_object()) return bad(at + " must be an object with sku and quantity", at);
  line l;
  for (auto& [key, value] : item.items()) {
    if (key == "sku") {
      if (!value.is_string()) return bad(at + ".sku must be a string", at + ".sku");
      l.sku = value.get<std::string>();
    } else if (key == "quantity") {
      if (!value.is_number_integer())
        return bad(at + ".quantity must be an integer", at + ".quantity");
      l.quantity = value.get<std::int64_t>();
    } else {
      return bad("unknown field '" + key + "' in " + at + " (allowed: sku, quantity)",
                 at + "." + key);
    }
  }
  if (!item.contains("sku")) return bad(at + ".sku is required", at + ".sku");
  if (!item.contains("quantity")) return bad(at + ".quantity is required", at + ".quantity");
  return l;
}

bool valid_key(const std::string& key) {
  if (key.empty() || key.size() > max_idempotency_key) return false;
  for (unsigned char c : key)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

}  // namespace

caf::expected<place_order> place_order_from_json(const json& body) {
  if (!body.is_object()) return bad("the body must be a JSON object", "");
  place_order cmd;
  for (auto& [key, value] : body.items()) {
    if (key == "customer") {
      if (!value.is_string()) return bad("customer must be a string", key);
      cmd.customer = value.get<std::string>();
    } else if (key == "items") {
      if (!value.is_array()) return bad("items must be an array", key);
      if (value.size() > 100) return bad("items must list at most 100 items", key);
      for (std::size_t i = 0; i < value.size(); ++i) {
        auto l = line_from(value[i], "items[" + std::to_string(i) + "]");
        if (!l) return l.error();
        cmd.items.push_back(std::move(*l));
      }
    } else {
      return bad("unknown field '" + key + "' (allowed: customer, items)", key);
    }
  }
  if (!body.contains("customer")) return bad("customer is required", "customer");
  if (!body.contains("items")) return bad("items is required", "items");
  return cmd;
}

caf::expected<list_orders> list_orders_from_target(std::string_view target) {
  auto params = parse_query(target, 8);
  if (!params) return bad("the query string is malformed", "");
  list_orders q;
  bool has_customer = false;
  for (auto& [name, value] : *params) {
    if (name == "customer") {
      q.customer = value;
      has_customer = true;
    } else if (name == "limit") {
      char* end = nullptr;
      auto n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 1 || n > 100)
        return bad("limit must be an integer from 1 to 100", "limit");
      q.limit = static_cast<std::int32_t>(n);
    } else if (name == "after") {
      if (value.size() > 64) return bad("after is not a cursor this API gave out", "after");
      q.after = value;
    } else {
      return bad(
          "unknown query parameter '" + name.substr(0, 64) + "' (allowed: customer, limit, after)",
          "query");
    }
  }
  // Absent: the orders of whoever the token speaks for (the capability decides).
  if (has_customer && (q.customer.empty() || q.customer.size() > 64))
    return bad("customer must be a user id: /api/orders?customer=ID", "customer");
  return q;
}

json order_json(const order_view& v, bool with_history) {
  json items = json::array();
  for (auto& l : v.items)
    items.push_back({{"sku", l.sku}, {"quantity", l.quantity}, {"price", l.price}});
  json out = {{"id", v.id},
              {"status", v.status},
              {"customer", v.customer},
              {"items", items},
              {"total", v.total},
              {"currency", v.currency},
              {"payment", v.payment.empty() ? json(nullptr) : json(v.payment)},
              {"created_at", format_utc_ms(v.created_at_ms)},
              {"updated_at", format_utc_ms(v.updated_at_ms)}};
  if (v.status == "cancelled")
    out["cancellation"] = {{"code", v.cancel_code}, {"reason", v.cancel_reason}};
  if (with_history) {
    json history = json::array();
    for (auto& h : v.history)
      history.push_back({{"seq", h.seq},
                         {"type", h.type},
                         {"at", format_utc_ms(h.time_ms)},
                         {"data", json::parse(h.payload, nullptr, false)}});
    out["history"] = history;
  }
  return out;
}

http_response placed_response(const saga::result& r, std::string_view request_id) {
  auto reply = json::parse(r.reply, nullptr, false);
  if (reply.is_object() && reply.contains("order")) {
    auto res = json_response(201, reply["order"]);
    res.headers.emplace_back("Location", "/api/orders/" + reply["order"].value("id", ""));
    return res;
  }
  if (!reply.is_object() || !reply.contains("error"))
    return error_response(make_error(errc::internal, "saga " + r.id + " left no reply"),
                          request_id);
  auto& e = reply["error"];
  auto message = e.value("message", "");
  auto info = describe_code(e.value("code", "internal"), message);
  // A failure that is not a business answer (a participant kept failing) is a 503 to retry;
  // nothing of the order remains.
  if (!info.rejection()) info = describe_code(code_name(errc::unavailable), message);
  info.field = e.value("field", "");
  if (info.code == errc::unavailable) info.retry_after = std::chrono::seconds{1};
  auto res = error_response(info, request_id);
  if (reply.contains("order_id")) {
    auto body = json::parse(res.body);
    body["order_id"] = reply["order_id"];
    res.body = dump_json(body);
  }
  return res;
}

std::vector<route> orders_routes() {
  return {
      make_route<saga::result>(
          http_method::post, "/api/orders", place_body_limit,
          [](const route_input& in) -> caf::expected<place_order> {
            auto cmd = place_order_from_json(in.body);
            if (!cmd) return cmd;
            if (auto key = in.request.header("Idempotency-Key")) {
              if (!valid_key(*key))
                return bad("Idempotency-Key must be 1 to 255 visible ASCII characters",
                           "Idempotency-Key");
              cmd->request_key = *key;
            }
            return cmd;
          },
          placed_response),
      make_route<order_page>(
          http_method::get, "/api/orders", no_body,
          [](const route_input& in) { return list_orders_from_target(in.request.target); },
          [](order_page& page) {
            json orders = json::array();
            for (auto& v : page.orders) orders.push_back(order_json(v, false));
            return json_response(200,
                                 {{"orders", orders},
                                  {"next", page.next.empty() ? json(nullptr) : json(page.next)}});
          }),
      with_scope(make_route<order_stats>(
                     http_method::get, "/api/orders/stats", no_body,
                     [](const route_input&) -> caf::expected<get_order_stats> {
                       return get_order_stats{};
                     },
                     [](order_stats& stats) {
                       json by_status = json::object(), revenue = json::object();
                       for (auto& [status, n] : stats.by_status) by_status[status] = n;
                       for (auto& [currency, amount] : stats.revenue) revenue[currency] = amount;
                       return json_response(200, {{"by_status", by_status}, {"revenue", revenue}});
                     }),
                 admin_scope),
      make_route<order_view>(
          http_method::get, "/api/orders/{id}", no_body,
          [](const route_input& in) -> caf::expected<get_order> {
            return get_order{{}, in.param(0)};
          },
          [](order_view& v) { return json_response(200, order_json(v, true)); }),
      make_route<order_view>(
          http_method::post, "/api/orders/{id}/items", 1024,
          [](const route_input& in) -> caf::expected<add_order_item> {
            auto item = line_from(in.body, "item");
            if (!item) return item.error();
            return add_order_item{{}, in.param(0), std::move(*item)};
          },
          [](order_view& v) { return json_response(200, order_json(v, false)); }),
  };
}

}  // namespace troupe::orders
