// A subscription: an actor that reads a producer's outbox from the offset its subscriber has
// applied, and hands each page to the subscriber's store, which applies it (inbox.hpp) and
// answers the new offset. Delivery is at least once; the inbox makes each event take effect
// once, in offset order, so per-aggregate order is kept.
//
// Waiting pulls make it push-like: a pull with nothing new waits at the producer and is
// answered the moment events commit. After a restart, or while the producer's node was away,
// the same loop catches up from the stored offset. Failures back off and retry forever.
// Under load a short gathering window between pulls turns many small pages into few large
// ones (subscription_config::gather).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include "runtime/cluster/directory_view.hpp"
#include "runtime/core/backoff.hpp"
#include "runtime/events/event.hpp"

namespace troupe::events {

// Asks a subscriber's store where `subscription` stands: answers std::int64_t (its offset).
using inbox_atom = caf::atom_constant<caf::atom("inbox")>;

// To the subscriber's store: apply these events (in order, each once) in one transaction
// with the new offset; answers the offset now stored.
struct apply_events {
  std::string subscription;
  std::vector<event_envelope> events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, apply_events& x) {
  return f(caf::meta::type_name("troupe.apply_events"), x.subscription, x.events);
}

struct subscription_config {
  std::string name;        // the inbox key, e.g. "orders.customers"
  std::string subscriber;  // the subscribing capability, named in call contexts
  // Where the events come from: a capability, read through a caller over the directory
  // (`view`), or an outbox of the subscriber's own capability, read directly.
  std::string producer;
  std::shared_ptr<directory_view> view;
  caf::actor local_source;
  caf::actor sink;  // the subscriber's store: answers inbox_atom and apply_events
  std::int32_t page = 256;
  std::chrono::milliseconds wait{10000};
  // After a page that was not full, wait this long before the next pull: under load the
  // events of that window are applied as one page, in one transaction of the sink, instead of
  // a pull and a commit per event. Idle, the next event still arrives at once (the pull
  // waits at the producer); the window only adds this much to the lag under load.
  std::chrono::milliseconds gather{5};
  backoff_policy retry{std::chrono::milliseconds{100}, std::chrono::milliseconds{5000}};
  // After each page applied: the offset applied and the producer's newest (lag = difference).
  std::function<void(std::int64_t applied, std::int64_t newest)> on_progress;
};

caf::actor spawn_subscription(caf::actor_system& system, subscription_config config);

void register_event_types(caf::actor_system_config& cfg);

}  // namespace troupe::events
