// One process per node data directory: a running node holds an exclusive lock on
// <data>/<node>/.lock, so a second node (or an offline tool such as a projection rebuild)
// started on the same files is refused instead of corrupting them.
#pragma once

#include <string>

namespace troupe {

class data_lock {
 public:
  // Creates the directory if needed and takes the lock; throws std::runtime_error naming the
  // directory when another process holds it.
  explicit data_lock(const std::string& node_dir);
  ~data_lock();
  data_lock(const data_lock&) = delete;
  data_lock& operator=(const data_lock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace troupe
