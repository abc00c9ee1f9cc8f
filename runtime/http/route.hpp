// How a capability declares an HTTP route, in its own folder: method, path template, body
// limit, how the request becomes a message, and how the reply becomes a response. Errors
// become responses through the one error table unless the route says otherwise.
//
//   make_route<user>(http_method::get, "/api/users/{id}", no_body,
//       [](const route_input& in) -> caf::expected<get_user> { return get_user{{}, in.param(0)}; },
//       [](user& u) { return json_response(200, to_json(u)); });
//
// The gateway runs a route: JSON body parsed within limits, the message sent through the
// caller (deadline, in-flight bound, outcome), the reply or error rendered.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "runtime/calls/caller.hpp"
#include "runtime/http/json_io.hpp"
#include "runtime/http/router.hpp"

namespace troupe {

inline constexpr std::size_t no_body = 0;

// What a route's request -> message function sees.
struct route_input {
  const http_request& request;
  const nlohmann::json& body;  // the parsed JSON body; null for routes without a body
  const std::string& param(std::size_t i) const { return request.params.at(i); }
};

// What the gateway hands a route to run.
struct route_call {
  http_request request;
  http_reply reply;
  calls::caller& calls;
  calls::callee callee;
  calls::call_options options;  // deadline and trace id of the request
};

namespace detail {

inline http_response default_error_response(const caf::error& err, std::string_view request_id) {
  return error_response(err, request_id);
}

}  // namespace detail

// `to_message(const route_input&) -> caf::expected<Message>` (an error is answered without
// calling anyone); `to_response(Reply&) -> http_response`, or `to_response(Reply&,
// std::string_view request_id)` for replies that may be error answers; `on_error(const caf::error&,
// std::string_view request_id) -> http_response`.
template <class Reply, class ToMessage, class ToResponse,
          class OnError = decltype(&detail::default_error_response)>
route make_route(http_method method, std::string path, std::size_t body_limit, ToMessage to_message,
                 ToResponse to_response, OnError on_error = &detail::default_error_response) {
  using expected_message = std::invoke_result_t<ToMessage&, const route_input&>;
  using message = typename expected_message::value_type;
  // What every request on this route shares, and what one request's answer needs: each is
  // one allocation, however many handlers hold it.
  struct shape {
    std::string path;
    bool json_body;
    ToMessage to_message;
    ToResponse to_response;
    OnError on_error;
    // The request as this route's message: its JSON body parsed within limits, then mapped.
    expected_message message_of(const http_request& request) const {
      nlohmann::json body;
      if (json_body)
        if (auto err = parse_json_body(request, body)) return err;
      return to_message(route_input{request, body});
    }
    // A mapping that throws answers its own request with a 500 (detail in the log) instead
    // of taking the gateway worker, and every request in flight on it, down.
    http_response failed(const std::exception& e, std::string_view id) const {
      return error_response(make_error(errc::internal, "route " + path + ": " + e.what()), id);
    }
  };
  struct answer_to {
    http_reply reply;
    std::string request_id;
  };
  auto how = std::make_shared<const shape>(shape{path, body_limit > 0, std::move(to_message),
                                                 std::move(to_response), std::move(on_error)});
  route r;
  r.method = method;
  r.idempotent = method == http_method::get || method == http_method::head ||
                 method == http_method::put || method == http_method::delete_ ||
                 method == http_method::options;
  r.path = std::move(path);
  r.body_limit = body_limit;
  r.map = [how](const http_request& request) -> caf::error {
    expected_message msg = how->message_of(request);
    return msg ? caf::error{} : msg.error();
  };
  r.run = [how](route_call& call) {
    std::shared_ptr<answer_to> to;  // holds the request id once it moves
    try {
      expected_message msg = how->message_of(call.request);
      if (!msg) return call.reply(how->on_error(msg.error(), call.request.id));
      to = std::make_shared<answer_to>(answer_to{call.reply, std::move(call.request.id)});
      call.calls.template call<Reply>(
          call.callee, message{std::move(*msg)}, std::move(call.options),
          [how, to](Reply& answer) {
            try {
              if constexpr (std::is_invocable_v<ToResponse&, Reply&, std::string_view>)
                to->reply(how->to_response(answer, std::string_view{to->request_id}));
              else
                to->reply(how->to_response(answer));
            } catch (const std::exception& e) {
              to->reply(how->failed(e, to->request_id));
            }
          },
          [how, to](const caf::error& err) {
            try {
              to->reply(how->on_error(err, to->request_id));
            } catch (const std::exception& e) {
              to->reply(how->failed(e, to->request_id));
            }
          });
    } catch (const std::exception& e) {
      call.reply(how->failed(e, to ? to->request_id : call.request.id));
    }
  };
  return r;
}

// `r`, callable only with a token that holds `scope`.
inline route with_scope(route r, std::string scope) {
  r.scope = std::move(scope);
  return r;
}

}  // namespace troupe
