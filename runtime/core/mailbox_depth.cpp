// Reading an actor's mailbox length, alone in this file because of how CAF 0.17 builds it.
//
// fifo_inbox::size() moves what other threads enqueued into the actor's own queue
// (fetch_more), and task_queue::lifo_append then static_casts the queue's sentinel node to
// a mailbox_element when the queue was empty. That is CAF's intrusive-list design, not a
// bug of ours, but UBSan's vptr check stops the process on it (-fno-sanitize-recover) once
// the template is instantiated in our code. CMakeLists.txt builds this file with
// -fno-sanitize=vptr so the rest of the runtime keeps the check.
#include "runtime/core/mailbox_depth.hpp"

#include <caf/scheduled_actor.hpp>

namespace troupe {

std::size_t mailbox_depth(caf::scheduled_actor* self) {
  // Only the actor itself may call this, from one of its handlers: fetch_more is the
  // reader's operation, and moving messages forward inside a round is what CAF's own
  // new_round does before it takes the next one.
  return self->mailbox().size();
}

}  // namespace troupe
