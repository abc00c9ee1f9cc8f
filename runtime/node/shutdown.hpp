// Stopping a node: the stop signals, escalation from a capability that cannot run, and a
// watchdog that bounds how long shutdown may take.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace troupe {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards,
// so that only wait_for_stop_signal receives them; ignores SIGPIPE.
void block_stop_signals();

// Waits up to `timeout` for SIGINT or SIGTERM (blocked as above); returns it, or 0.
int wait_for_stop_signal(std::chrono::milliseconds timeout);
int wait_for_stop_signal();  // without a timeout

// A capability the supervisor gave up on before the node served, or with "on_give_up":
// "exit_node": the node stops (exit 3) rather than serve without it. raise() may be called from any
// thread; it wakes wait_for_stop_signal.
class escalation {
 public:
  void raise(const std::string& what);
  bool raised() const { return raised_.load(); }
  std::string what() const;

 private:
  mutable std::mutex mtx_;
  std::string what_;
  std::atomic<bool> raised_{false};
};

// Bounds shutdown: CAF's registry keeps an actor alive while a connected peer still holds a
// proxy to it, and the actor system's destructor waits for such actors forever. Our own
// nodes drop proxies as soon as a monitor fires; a foreign or stuck peer may not.
class shutdown_watchdog {
 public:
  // Exits the process with 1 when `limit` passes before the watchdog is destroyed. Arming
  // twice keeps the first limit.
  void arm(std::chrono::seconds limit);
  ~shutdown_watchdog();  // disarms

 private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace troupe
