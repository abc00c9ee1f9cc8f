// A bounded least-recently-used map, for actors that keep hot state in memory. Not thread
// safe: it lives inside one actor's state.
#pragma once

#include <cstddef>
#include <list>
#include <unordered_map>
#include <utility>

namespace troupe {

template <class Key, class Value>
class lru_cache {
 public:
  explicit lru_cache(std::size_t capacity) : capacity_(capacity) {}

  // The value for `key`, now the most recently used; nullptr when absent.
  const Value* find(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++misses_;
      return nullptr;
    }
    ++hits_;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // Inserts or replaces; evicts the least recently used entry beyond capacity.
  void put(const Key& key, Value value) {
    if (capacity_ == 0) return;
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

  void erase(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }

  std::size_t size() const { return order_.size(); }
  std::size_t capacity() const { return capacity_; }
  std::size_t hits() const { return hits_; }
  std::size_t misses() const { return misses_; }

 private:
  using entry = std::pair<Key, Value>;
  std::size_t capacity_;
  std::list<entry> order_;  // most recently used first
  std::unordered_map<Key, typename std::list<entry>::iterator> index_;
  std::size_t hits_ = 0, misses_ = 0;
};

}  // namespace troupe
