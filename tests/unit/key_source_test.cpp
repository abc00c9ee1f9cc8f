// Where the token key comes from: environment, files, dev mode's generated secret.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "runtime/security/key_source.hpp"
#include "tests/support/auth.hpp"
#include "tests/support/process.hpp"

using namespace troupe::security;
using troupe::test::temp_dir;

namespace {

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream{path} << text;
  ::chmod(path.c_str(), mode);
}

std::string refusal(const auth_config& config, const std::string& dir) {
  try {
    load_key(config, dir);
    return "loaded";
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
}

}  // namespace

TEST_CASE("the secret comes from the file, else the variable, else dev mode's own") {
  temp_dir dir;
  auth_config config;
  config.secret_env = "TROUPE_TEST_KEY_SOURCE";
  ::unsetenv("TROUPE_TEST_KEY_SOURCE");
  CHECK(refusal(config, dir.path()).find("TROUPE_TEST_KEY_SOURCE") != std::string::npos);

  ::setenv("TROUPE_TEST_KEY_SOURCE", "from-the-environment-0123456789abcdef", 1);
  auto from_env = load_key(config, dir.path());
  CHECK(from_env.settings.secret == "from-the-environment-0123456789abcdef");
  CHECK(from_env.origin == "environment variable TROUPE_TEST_KEY_SOURCE");
  CHECK_FALSE(from_env.generated);

  write_file(dir.file("secret"), "from-a-file-0123456789abcdef-0123456789\n\n", 0600);
  config.secret_file = dir.file("secret");
  CHECK(load_key(config, dir.path()).settings.secret == "from-a-file-0123456789abcdef-0123456789");
  ::chmod(dir.file("secret").c_str(), 0640);
  CHECK(refusal(config, dir.path()).find("chmod 600") != std::string::npos);
  config.secret_file = dir.file("missing");
  CHECK(refusal(config, dir.path()).find("missing") != std::string::npos);

  // Dev mode: made once with mode 0600, then the same one every time.
  config.secret_file.clear();
  ::setenv("TROUPE_TEST_KEY_SOURCE", "", 1);  // set but empty counts as not given
  config.generate_secret = true;
  auto node_dir = dir.file("data/dev");
  auto first = load_key(config, node_dir);
  CHECK(first.generated);
  CHECK(first.settings.secret.size() == 64);
  struct stat st {};
  REQUIRE(::stat((node_dir + "/jwt-secret").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(load_key(config, node_dir).settings.secret == first.settings.secret);
  CHECK(load_key(config, dir.file("data/other")).settings.secret != first.settings.secret);
  ::unsetenv("TROUPE_TEST_KEY_SOURCE");
}

TEST_CASE("a public key is for asymmetric algorithms only, and one kind of key at a time") {
  temp_dir dir;
  auto keys = troupe::test::generate_key_pair(false);
  write_file(dir.file("public.pem"), keys.public_pem, 0644);  // public: others may read it
  auth_config config;
  config.public_key_file = dir.file("public.pem");
  CHECK(refusal(config, dir.path()).find("list RS256 or ES256") != std::string::npos);
  config.algorithms = {"ES256"};
  auto loaded = load_key(config, dir.path());
  CHECK(loaded.settings.public_key_pem == keys.public_pem.substr(0, keys.public_pem.size() - 1));
  CHECK(loaded.settings.secret.empty());
  token_verifier accepts{loaded.settings};  // the key fits ES256
  config.secret_file = dir.file("public.pem");
  CHECK(refusal(config, dir.path()).find("one key kind only") != std::string::npos);
  config.secret_file.clear();
  config.public_key_file.clear();
  CHECK(refusal(config, dir.path()).find("public_key_file must name") != std::string::npos);
}

TEST_CASE("durations for --ttl") {
  CHECK(parse_duration("90").count() == 90);
  CHECK(parse_duration("90s").count() == 90);
  CHECK(parse_duration("15m").count() == 900);
  CHECK(parse_duration("1h").count() == 3600);
  CHECK(parse_duration("7d").count() == 7 * 86400);
  for (auto bad : {"", "h", "1w", "-1h", "1.5h", "1hh", "99999999999999"})
    CHECK_THROWS_AS(parse_duration(bad), std::invalid_argument);
}
