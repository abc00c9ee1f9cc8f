#include "runtime/cluster/directory_view.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "runtime/core/atoms.hpp"

namespace troupe {

directory_view::directory_view(std::vector<std::string> capabilities, int max_in_flight,
                               const breaker_factory& make_breaker)
    : max_in_flight_(max_in_flight) {
  for (auto& name : capabilities) {
    if (index_of(name)) continue;
    slots_.push_back(std::make_unique<slot>());
    auto& s = *slots_.back();
    s.breaker = make_breaker ? make_breaker(name) : nullptr;
    if (!s.breaker) s.breaker = std::make_unique<circuit_breaker>();
    s.name = std::move(name);
  }
}

void directory_view::count_calls(metrics& sink) {
  for (auto& s : slots_) s->calls = sink.for_callee(s->name);
}

std::optional<std::size_t> directory_view::index_of(std::string_view capability) const {
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i]->name == capability) return i;
  return std::nullopt;
}

caf::actor directory_view::handle(std::size_t i, std::uint64_t* epoch) const {
  auto& s = *slots_[i];
  std::lock_guard<std::mutex> guard{s.mtx};
  if (epoch) *epoch = s.epoch.load(std::memory_order_relaxed);
  return s.handle;
}

std::string directory_view::why_unavailable(std::size_t i) const {
  auto& s = *slots_[i];
  std::lock_guard<std::mutex> guard{s.mtx};
  return s.handle ? std::string{} : s.why;
}

void directory_view::set(std::size_t i, caf::actor handle, std::string why, bool still_answering) {
  auto& s = *slots_[i];
  bool changed = false;
  {
    std::lock_guard<std::mutex> guard{s.mtx};
    changed = s.handle != handle;
    // Kept while a new handle replaces none: callers read it after the epoch moved.
    if (changed && s.handle) s.still_answering.store(still_answering, std::memory_order_release);
    s.handle = std::move(handle);
    s.why = std::move(why);
    if (changed) s.epoch.fetch_add(1, std::memory_order_release);
  }
  if (!changed) return;
  std::vector<caf::actor_addr> watching;
  {
    std::lock_guard<std::mutex> guard{watchers_mtx_};
    watching.assign(watchers_.begin(), watchers_.end());
  }
  for (auto& who : watching)
    if (auto actor = caf::actor_cast<caf::actor>(who)) caf::anon_send(actor, call_tick_atom::value);
}

void directory_view::watch(const caf::actor_addr& who) {
  std::lock_guard<std::mutex> guard{watchers_mtx_};
  watchers_.insert(who);
}

void directory_view::unwatch(const caf::actor_addr& who) {
  std::lock_guard<std::mutex> guard{watchers_mtx_};
  watchers_.erase(who);
}

}  // namespace troupe
