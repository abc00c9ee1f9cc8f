#include "runtime/security/key_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <openssl/rand.h>

namespace troupe::security {

namespace {

bool symmetric(const std::vector<std::string>& algorithms) {
  for (auto& a : algorithms)
    if (a.rfind("HS", 0) != 0) return false;
  return true;
}

// A key file: whole, at most 64 KiB, trailing line breaks dropped (editors add them).
std::string read_key_file(const std::string& path, const char* what, bool secret) {
  if (check_key_file(path, what, secret) > 64 * 1024)
    throw std::invalid_argument(std::string(what) + " '" + path + "' is larger than 64 KiB");
  std::ifstream in{path, std::ios::binary};
  if (!in) throw std::invalid_argument(std::string(what) + " '" + path + "' cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  auto out = text.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (out.empty()) throw std::invalid_argument(std::string(what) + " '" + path + "' is empty");
  return out;
}

std::string random_secret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("the system's random generator failed");
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// The dev secret: read when it exists, else written whole to a temporary file and linked
// into place, so that nobody ever reads a half-written secret, and of two processes starting
// at once the first link wins and the other reads it.
std::string generated_secret(const std::string& node_dir) {
  std::filesystem::create_directories(node_dir);
  auto path = node_dir + "/" + generated_secret_file;
  if (std::filesystem::exists(path)) return read_key_file(path, "the generated secret", true);
  auto temporary = path + ".new-" + std::to_string(::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::invalid_argument("cannot create '" + temporary + "': " + std::strerror(errno));
  auto secret = random_secret();
  auto line = secret + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  int linked = ok ? ::link(temporary.c_str(), path.c_str()) : -1;
  int link_errno = errno;
  ::unlink(temporary.c_str());
  if (!ok) throw std::invalid_argument("cannot write '" + temporary + "'");
  if (linked != 0 && link_errno != EEXIST)
    throw std::invalid_argument("cannot create '" + path + "': " + std::strerror(link_errno));
  return read_key_file(path, "the generated secret", true);
}

}  // namespace

auth_config read_auth_config(settings_reader r, auth_config a, bool may_generate) {
  a.secret_env = r.optional_text("secret_env", 128, a.secret_env);
  a.secret_file = r.optional_text("secret_file", 4096, a.secret_file);
  a.public_key_file = r.optional_text("public_key_file", 4096, a.public_key_file);
  a.algorithms = r.strings("algorithms", 9, 8, a.algorithms);
  a.issuer = r.optional_text("issuer", 1024, a.issuer);
  a.audience = r.optional_text("audience", 1024, a.audience);
  a.leeway = std::chrono::seconds{r.integer("leeway_s", 0, 300, a.leeway.count())};
  a.cache_size =
      static_cast<std::size_t>(r.integer("cache_size", 0, static_cast<std::int64_t>(max_cache_size),
                                         static_cast<std::int64_t>(a.cache_size)));
  a.generate_secret = r.boolean("generate_secret", a.generate_secret);
  if (a.algorithms.empty())
    throw settings_error(r.path_of("algorithms"), "must list at least one algorithm");
  if (a.generate_secret && !may_generate)
    throw settings_error(r.path_of("generate_secret"),
                         "cannot be used here: every node needs the same key, so name it");
  r.finish();
  return a;
}

std::int64_t check_key_file(const std::string& path, const std::string& what, bool secret) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw std::invalid_argument(what + " '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw std::invalid_argument(what + " '" + path + "' is not a regular file");
  if (secret && (st.st_mode & 077) != 0)
    throw std::invalid_argument(what + " '" + path + "' may be read by other users: chmod 600 it");
  return static_cast<std::int64_t>(st.st_size);
}

loaded_key load_key(const auth_config& config, const std::string& node_dir) {
  loaded_key out;
  auto& s = out.settings;
  s.algorithms = config.algorithms;
  s.issuer = config.issuer;
  s.audience = config.audience;
  s.leeway = config.leeway;
  s.cache_size = config.cache_size;
  if (!symmetric(config.algorithms)) {
    if (config.public_key_file.empty())
      throw std::invalid_argument("auth.algorithms asks for " + config.algorithms.front() +
                                  ": auth.public_key_file must name a PEM public key");
    if (!config.secret_file.empty())
      throw std::invalid_argument(
          "auth.secret_file is set but auth.algorithms are asymmetric: one key kind only");
    s.public_key_pem = read_key_file(config.public_key_file, "auth.public_key_file", false);
    out.origin = config.public_key_file;
    return out;
  }
  if (!config.public_key_file.empty())
    throw std::invalid_argument(
        "auth.public_key_file is set but auth.algorithms are HS*: list RS256 or ES256 to use it");
  if (!config.secret_file.empty()) {
    s.secret = read_key_file(config.secret_file, "auth.secret_file", true);
    out.origin = config.secret_file;
    return out;
  }
  if (!config.secret_env.empty())
    if (auto env = std::getenv(config.secret_env.c_str()); env && *env) {
      s.secret = env;
      out.origin = "environment variable " + config.secret_env;
      return out;
    }
  if (!config.generate_secret)
    throw std::invalid_argument(
        "no key to verify tokens with: set the environment variable " +
        (config.secret_env.empty() ? std::string("named by auth.secret_env") : config.secret_env) +
        " (at least " + std::to_string(min_secret_bytes) +
        " bytes), or auth.secret_file, or auth.public_key_file");
  s.secret = generated_secret(node_dir);
  out.origin = node_dir + "/" + generated_secret_file;
  out.generated = true;
  return out;
}

std::chrono::seconds parse_duration(const std::string& text) {
  auto bad = [&] {
    return std::invalid_argument("'" + text + "' is not a duration like 90s, 15m, 1h or 7d");
  };
  if (text.empty() || text.size() > 12) throw bad();
  std::size_t digits = text.find_first_not_of("0123456789");
  if (digits == 0) throw bad();
  auto number = std::stoll(text.substr(0, digits));
  std::string unit = digits == std::string::npos ? "s" : text.substr(digits);
  std::int64_t scale = unit == "s"   ? 1
                       : unit == "m" ? 60
                       : unit == "h" ? 3600
                       : unit == "d" ? 86400
                                     : 0;
  if (scale == 0) throw bad();
  return std::chrono::seconds{number * scale};
}

}  // namespace troupe::security
