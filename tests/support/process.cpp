#include "tests/support/process.hpp"

#include "tests/support/auth.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace troupe::test {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

pid_t spawn(const std::vector<std::string>& args, const std::string& workdir,
            const std::string& out_path, const std::string& err_path,
            const process_options& options) {
  // Opened (and emptied) here, before the child exists: whoever reads the logs next never
  // sees what an earlier process with the same label wrote.
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0 || err < 0) throw std::runtime_error("cannot create " + out_path);
  // Children inherit the key the tests' tokens are signed with (support/auth.hpp); a test
  // that wants another sets TROUPE_JWT_SECRET in options.env. Set once, before any fork.
  static const bool keyed = setenv("TROUPE_JWT_SECRET", test_secret().c_str(), 1) == 0;
  (void)keyed;
  auto pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Child: unblock signals the test runner may have blocked, redirect, exec.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!workdir.empty() && chdir(workdir.c_str()) != 0) _exit(126);
    for (auto& entry : options.env) putenv(const_cast<char*>(entry.c_str()));
    if (options.max_open_files) {
      rlimit limit{*options.max_open_files, *options.max_open_files};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
    }
    int in = open("/dev/null", O_RDONLY);
    if (in < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out);
  close(err);
  return pid;
}

int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

child_process::child_process(std::vector<std::string> args, std::string workdir,
                             std::string log_base, process_options options)
    : log_base_(std::move(log_base)) {
  pid_ = spawn(args, workdir, log_base_ + ".out", log_base_ + ".err", options);
}

double child_process::cpu_seconds() const {
  auto stat = slurp("/proc/" + std::to_string(pid_) + "/stat");
  // Fields after the command name, which is in parentheses and may contain spaces.
  std::istringstream fields{stat.substr(stat.rfind(')') + 2)};
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

child_process::~child_process() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
}

bool child_process::running() {
  if (reaped_) return false;
  int status = 0;
  auto r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = decode(status);
    return false;
  }
  return true;
}

std::string child_process::out() const {
  return slurp(log_base_ + ".out");
}
std::string child_process::err() const {
  return slurp(log_base_ + ".err");
}

std::string child_process::wait_for_line(const std::string& prefix,
                                         std::chrono::milliseconds deadline) {
  std::string found;
  bool exited = false;
  auto printed = [&] {
    std::istringstream lines{out()};
    for (std::string line; std::getline(lines, line);)
      if (line.rfind(prefix, 0) == 0) {
        found = line;
        return true;
      }
    return exited = !running();
  };
  if (eventually(printed, deadline, std::chrono::milliseconds{2}) && !exited) return found;
  if (exited)
    throw std::runtime_error("process exited (" + std::to_string(status_) + ") before printing '" +
                             prefix + "'; stderr:\n" + err());
  throw std::runtime_error("no line '" + prefix + "' within deadline; stdout:\n" + out() +
                           "\nstderr:\n" + err());
}

void child_process::signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

int child_process::wait(std::chrono::milliseconds deadline) {
  if (!eventually([&] { return !running(); }, deadline, std::chrono::milliseconds{5}))
    throw std::runtime_error("process did not exit within deadline");
  return status_;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds every) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(every);
  }
}

command_result run_command(std::vector<std::string> args, std::chrono::milliseconds deadline) {
  temp_dir dir;
  child_process p{std::move(args), "", dir.file("cmd")};
  int status = p.wait(deadline);
  return {status, p.out(), p.err()};
}

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/troupe-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void temp_dir::write(const std::string& name, const std::string& content) const {
  std::ofstream out{file(name), std::ios::binary};
  out << content;
}

std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

refused_port::refused_port() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("bind failed");
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

refused_port::~refused_port() {
  close(fd_);
}

std::string field_of(const std::string& line, const std::string& key) {
  auto at = line.find(" " + key + "=");
  if (at == std::string::npos) return {};
  auto start = at + key.size() + 2;
  return line.substr(start, line.find(' ', start) - start);
}

std::string troupe_binary() {
  return TROUPE_BINARY;
}
std::string source_dir() {
  return TROUPE_SOURCE_DIR;
}

}  // namespace troupe::test
