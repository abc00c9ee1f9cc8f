// Real child processes for multi-process tests: start, wait for a line, signal, reap.
#pragma once

#include <sys/types.h>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace troupe::test {

// How a child starts besides its arguments.
struct process_options {
  std::vector<std::string> env;                 // "NAME=value", added to the environment
  std::optional<unsigned long> max_open_files;  // RLIMIT_NOFILE, soft and hard
};

class child_process {
 public:
  // Starts `args` (args[0] is the program) in `workdir`, stdout to `log_base`.out and
  // stderr to `log_base`.err.
  child_process(std::vector<std::string> args, std::string workdir, std::string log_base,
                process_options options = {});
  ~child_process();  // kills (SIGKILL) and reaps if still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // Waits until stdout has a line starting with `prefix`; returns it. Throws when the
  // deadline passes or the process exits first (the message includes its stderr).
  std::string wait_for_line(const std::string& prefix, std::chrono::milliseconds deadline);
  void signal(int sig);
  // Waits for exit; returns the exit status (128+signal when killed). Throws on deadline.
  int wait(std::chrono::milliseconds deadline);
  bool running();
  std::string out() const;
  std::string err() const;
  pid_t pid() const { return pid_; }
  // CPU time (user + system) the process has used so far, from /proc.
  double cpu_seconds() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_base_;
};

struct command_result {
  int status;
  std::string out;
  std::string err;
};

// Polls `condition` every `every` until it holds or `deadline` passes; returns its last value.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds every = std::chrono::milliseconds{20});

// Runs a command to completion (bounded by `deadline`).
command_result run_command(std::vector<std::string> args, std::chrono::milliseconds deadline);

// A fresh directory under /tmp, removed by the destructor.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// A port that was free a moment ago on 127.0.0.1. Someone else may take it before it is
// used: prefer port 0 and read the bound port back; where a fixed port is unavoidable (a
// node's "listen" address that peers dial), retry with another when the bind fails.
std::uint16_t free_port();

// A loopback port bound but not listening, for as long as this object lives: connecting to
// it is refused, and nobody else can take it meanwhile.
class refused_port {
 public:
  refused_port();
  ~refused_port();
  refused_port(const refused_port&) = delete;
  refused_port& operator=(const refused_port&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// Reads "key=value" from a ready line like "troupe: ready node=dev http=127.0.0.1:8080 ...".
std::string field_of(const std::string& line, const std::string& key);

// Where the built binary and the source tree are (set by CMake).
std::string troupe_binary();
std::string source_dir();

}  // namespace troupe::test
