#include "runtime/deadline_tracker.hpp"

#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>

namespace troupe {

void deadline_tracker::track(caf::message_id request, clock::time_point deadline) {
  // A response_handle's id() is already the response id; response_id() of that would be a
  // plain asynchronous id that no handler waits for.
  queue_.push({deadline, request.is_response() ? request : request.response_id()});
}

std::size_t deadline_tracker::expire(caf::scheduled_actor* self,
                                     const std::function<bool(caf::message_id)>& still_waiting,
                                     clock::time_point now) {
  std::size_t failed = 0;
  while (!queue_.empty() && queue_.top().deadline <= now) {
    auto request = queue_.top().request;
    queue_.pop();
    if (!still_waiting(request)) continue;
    // What CAF's clock sends when a request times out: an error response with its id.
    self->eq_impl(request, nullptr, self->context(), caf::make_error(caf::sec::request_timeout));
    ++failed;
  }
  return failed;
}

}  // namespace troupe
