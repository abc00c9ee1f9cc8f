#include "runtime/node/data_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace troupe {

data_lock::data_lock(const std::string& node_dir) {
  std::error_code ec;
  std::filesystem::create_directories(node_dir, ec);
  auto path = node_dir + "/.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    auto why = errno == EWOULDBLOCK ? std::string("another troupe process is using it")
                                    : std::string(std::strerror(errno));
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("the data directory " + node_dir + " is locked: " + why);
  }
}

data_lock::~data_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace troupe
