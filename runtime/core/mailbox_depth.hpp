#pragma once

#include <cstddef>

namespace caf {
class scheduled_actor;
}

namespace troupe {

// How many messages wait in `self`'s mailbox behind the one being handled. Call it only
// from a handler of `self`.
std::size_t mailbox_depth(caf::scheduled_actor* self);

}  // namespace troupe
