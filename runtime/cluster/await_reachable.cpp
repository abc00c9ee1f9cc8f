#include "runtime/cluster/await_reachable.hpp"

#include <caf/all.hpp>

#include "runtime/core/atoms.hpp"

namespace troupe {

namespace {

using check_atom = caf::atom_constant<caf::atom("reachchk")>;

struct waiter_state {
  static inline const char* name = "troupe.reachability_waiter";
  std::vector<caf::response_promise> waiting;
};

bool all_reachable(const directory_view& view, const std::vector<std::string>& names) {
  for (auto& name : names) {
    auto slot = view.index_of(name);
    if (!slot || !view.handle(*slot)) return false;
  }
  return true;
}

}  // namespace

// A named function with its arguments, not a capture-only lambda: CAF 0.17 binds a lambda
// without arguments through a null tuple pointer, which UBSan reports.
static caf::behavior waiter_behavior(caf::stateful_actor<waiter_state>* self,
                                     std::shared_ptr<directory_view> view,
                                     std::vector<std::string> names,
                                     std::chrono::milliseconds every) {
  self->send(self, check_atom::value);
  return {
      [=](check_atom) {
        if (!all_reachable(*view, names)) {
          self->delayed_send(self, every, check_atom::value);
          return;
        }
        for (auto& rp : self->state.waiting) rp.deliver(true);
        if (!self->state.waiting.empty()) self->quit();
        // No one asked yet: answer the first request at once.
        self->become([self](ready_atom) -> caf::result<bool> {
          self->quit();
          return true;
        });
      },
      [self](ready_atom) -> caf::result<bool> {
        self->state.waiting.push_back(self->make_response_promise());
        return caf::delegated<bool>{};
      },
  };
}

caf::actor spawn_reachability_waiter(caf::actor_system& system,
                                     std::shared_ptr<directory_view> view,
                                     std::vector<std::string> names,
                                     std::chrono::milliseconds every) {
  return system.spawn(waiter_behavior, std::move(view), std::move(names), every);
}

}  // namespace troupe
