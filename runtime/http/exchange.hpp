// An HTTP request travelling to an actor together with the way to answer it. Local only:
// it carries a callback, so it never crosses a node.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include "runtime/http/message.hpp"

namespace troupe {

struct http_exchange {
  http_request request;
  http_reply reply;
};

}  // namespace troupe

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::http_exchange)
