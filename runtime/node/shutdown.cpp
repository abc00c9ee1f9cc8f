#include "runtime/node/shutdown.hpp"

#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>

#include "runtime/observability/log.hpp"

namespace troupe {

namespace {

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

}  // namespace

void block_stop_signals() {
  auto signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

int wait_for_stop_signal(std::chrono::milliseconds timeout) {
  auto signals = stop_signals();
  timespec ts{static_cast<std::time_t>(timeout.count() / 1000),
              static_cast<long>((timeout.count() % 1000) * 1000000)};
  for (;;) {
    int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno != EINTR) return 0;  // EAGAIN: the timeout passed
  }
}

int wait_for_stop_signal() {
  auto signals = stop_signals();
  int sig = 0;
  sigwait(&signals, &sig);
  return sig;
}

void escalation::raise(const std::string& what) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (what_.empty()) what_ = what;
  }
  raised_ = true;
  kill(getpid(), SIGTERM);  // wakes the main thread's wait; shutdown drains as usual
}

std::string escalation::what() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return what_;
}

void shutdown_watchdog::arm(std::chrono::seconds limit) {
  if (thread_.joinable()) return;  // armed already
  thread_ = std::thread([this, limit] {
    std::unique_lock<std::mutex> lock{mtx_};
    if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
      log_error("node", "shutdown still waiting after " + std::to_string(limit.count()) +
                            " s for actors that remote peers hold; exiting without them");
      std::_Exit(1);
    }
  });
}

shutdown_watchdog::~shutdown_watchdog() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    done_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace troupe
