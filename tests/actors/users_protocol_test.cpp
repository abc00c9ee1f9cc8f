// The users protocol on CAF's deterministic test coordinator: every message is delivered
// by sched.run(), so order and outcomes do not depend on thread timing.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>

#include <caf/all.hpp>
#include <caf/test/dsl.hpp>
// The CAF test engine's definitions are in tests/support/caf_test_engine.cpp.

#include "actors/users/users_protocol.hpp"
#include "runtime/core/error.hpp"

using namespace troupe;
using namespace troupe::users;

namespace {

struct fixture : test_coordinator_fixture<> {
  std::string db = "/tmp/troupe-users-protocol-" + std::to_string(::getpid()) + ".db";
  users_actor users;
  // What the front told its queue bound of its mailbox, handler by handler.
  std::shared_ptr<std::vector<std::size_t>> depths = std::make_shared<std::vector<std::size_t>>();

  fixture() {
    remove_db();
    users_config cfg{db, false, 10000, {}};
    cfg.shedding.on_mailbox = [depths = depths](std::size_t n) { depths->push_back(n); };
    users = spawn_users(sys, cfg);
    sched.run();
  }
  ~fixture() override {
    self->send_exit(users, caf::exit_reason::user_shutdown);
    sched.run();
    remove_db();
  }
  void remove_db() {
    for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  }

  // Sends one request, lets the coordinator deliver everything, returns the outcome.
  template <class Message>
  caf::expected<user> ask(Message msg) {
    caf::expected<user> out{caf::error{}};
    auto handle = self->request(users, caf::infinite, std::move(msg));
    sched.run();
    handle.receive([&](user& u) { out = std::move(u); },
                   [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  // Deadlines on the coordinator's clock, which the capability reads (self->clock()).
  call_context ctx() {
    auto c = make_call_context("test", std::chrono::seconds{60});
    c.deadline = sched.clock().now() + std::chrono::seconds{60};
    return c;
  }
};

errc code_of(const caf::expected<user>& r) {
  return static_cast<errc>(r.error().code());
}

}  // namespace

TEST_CASE_METHOD(fixture, "create then get returns the stored user") {
  auto created = ask(create_user{ctx(), "alice", "Alice", "alice@example.com"});
  REQUIRE(created);
  CHECK(created->id == "alice");
  CHECK(created->created_at_ms > 0);
  auto read = ask(get_user{ctx(), "alice"});
  REQUIRE(read);
  CHECK(read->name == "Alice");
  CHECK(read->email == "alice@example.com");
  CHECK(read->created_at_ms == created->created_at_ms);
}

TEST_CASE_METHOD(fixture, "a duplicate id is refused and the first user is kept") {
  REQUIRE(ask(create_user{ctx(), "bob", "Bob", "bob@example.com"}));
  auto dup = ask(create_user{ctx(), "bob", "Robert", "robert@example.com"});
  REQUIRE_FALSE(dup);
  CHECK(code_of(dup) == errc::already_exists);
  CHECK(ask(get_user{ctx(), "bob"})->name == "Bob");
}

TEST_CASE_METHOD(fixture, "invalid fields are refused naming the field, and nothing is stored") {
  auto bad = ask(create_user{ctx(), "carol", "Carol", "not-an-email"});
  REQUIRE_FALSE(bad);
  CHECK(code_of(bad) == errc::invalid_argument);
  CHECK(describe(bad.error()).field == "email");
  CHECK(code_of(ask(get_user{ctx(), "carol"})) == errc::not_found);
}

TEST_CASE_METHOD(fixture, "an unknown or impossible id is not found") {
  CHECK(code_of(ask(get_user{ctx(), "nobody"})) == errc::not_found);
  CHECK(code_of(ask(get_user{ctx(), "../etc"})) == errc::not_found);
}

TEST_CASE_METHOD(fixture, "a user created without an id gets a generated one") {
  auto created = ask(create_user{ctx(), "", "Dora", "dora@example.com"});
  REQUIRE(created);
  CHECK(created->id.rfind("u-", 0) == 0);
  CHECK(ask(get_user{ctx(), created->id})->name == "Dora");
}

TEST_CASE_METHOD(fixture, "a request whose deadline has passed is not executed") {
  auto late = ctx();
  late.deadline = call_context::clock::time_point{};  // long past on any clock
  auto r = ask(create_user{late, "eve", "Eve", "eve@example.com"});
  REQUIRE_FALSE(r);
  CHECK(code_of(r) == errc::deadline_exceeded);
  CHECK(code_of(ask(get_user{ctx(), "eve"})) == errc::not_found);
}

TEST_CASE_METHOD(fixture, "users survive a restart of the capability") {
  REQUIRE(ask(create_user{ctx(), "frank", "Frank", "frank@example.com"}));
  self->send_exit(users, caf::exit_reason::user_shutdown);
  sched.run();
  users = spawn_users(sys, {db, false, 10000, {}});
  sched.run();
  auto read = ask(get_user{ctx(), "frank"});
  REQUIRE(read);
  CHECK(read->email == "frank@example.com");
}

TEST_CASE_METHOD(fixture, "health is answered by the front alone, without a scan of the store") {
  REQUIRE(ask(create_user{ctx(), "ida", "Ida", "ida@example.com"}));
  health_report report;
  auto handle = self->request(users, caf::infinite, health_atom::value);
  CHECK(sched.run() == 1);  // the front answered; the store's thread was not asked
  handle.receive([&](health_report& r) { report = std::move(r); }, [](caf::error&) {});
  REQUIRE(report.size() == 1);
  CHECK(report[0].name == "users");
  CHECK(report[0].ok);
  CHECK(report[0].detail.find("1 of 10000 cache entries") != std::string::npos);
  CHECK(report[0].detail.find(".db") == std::string::npos);  // no file paths
}

TEST_CASE_METHOD(fixture,
                 "a request whose deadline passes while it waits for the store is dropped") {
  auto ctx_short = ctx();
  ctx_short.deadline = sched.clock().now() + std::chrono::milliseconds{5};
  auto handle =
      self->request(users, caf::infinite, create_user{ctx_short, "jo", "Jo", "jo@example.com"});
  sched.run_once();  // the front passes it on to the store...
  sched.clock().current_time += std::chrono::milliseconds{10};  // ...where it waits too long
  sched.run();
  caf::expected<user> out{caf::error{}};
  handle.receive([&](user& u) { out = u; }, [&](caf::error& e) { out = e; });
  REQUIRE_FALSE(out);
  CHECK(code_of(out) == errc::deadline_exceeded);
  CHECK(code_of(ask(get_user{ctx(), "jo"})) == errc::not_found);
}

TEST_CASE_METHOD(fixture, "a user written or read once is served from memory, not the store") {
  REQUIRE(ask(create_user{ctx(), "gina", "Gina", "gina@example.com"}));
  auto cached = self->request(users, caf::infinite, get_user{ctx(), "gina"});
  CHECK(sched.run() == 1);  // the front alone answered
  cached.receive([](user& u) { CHECK(u.name == "Gina"); },
                 [](caf::error& e) { FAIL(to_string(e)); });
  auto missing = self->request(users, caf::infinite, get_user{ctx(), "nobody"});
  CHECK(sched.run() == 4);  // front -> store -> the store commits its batch -> front
  missing.receive([](user&) { FAIL("found a user that does not exist"); },
                  [](caf::error& e) { CHECK(describe(e).code == errc::not_found); });
}

TEST_CASE_METHOD(fixture, "with the cache disabled every read goes to the store") {
  self->send_exit(users, caf::exit_reason::user_shutdown);
  sched.run();
  users = spawn_users(sys, {db, false, 0, {}});
  sched.run();
  REQUIRE(ask(create_user{ctx(), "hal", "Hal", "hal@example.com"}));
  auto read = self->request(users, caf::infinite, get_user{ctx(), "hal"});
  CHECK(sched.run() == 4);  // front -> store -> commit -> front
  read.receive([](user& u) { CHECK(u.email == "hal@example.com"); },
               [](caf::error& e) { FAIL(to_string(e)); });
}

TEST_CASE_METHOD(fixture,
                 "a stalled store cannot pile up requests behind the front without bound") {
  // The store never gets to run: every cache miss waits for it. The front refuses beyond its
  // backlog bound at once instead of queueing without end.
  constexpr int sent = 4097;
  using handle_type = decltype(self->request(users, caf::infinite, get_user{}));
  std::vector<handle_type> handles;
  for (int i = 0; i < sent; ++i)
    handles.push_back(
        self->request(users, caf::infinite, get_user{ctx(), "u" + std::to_string(i)}));
  for (int i = 0; i < sent; ++i) {
    REQUIRE(sched.prioritize(users));
    sched.run_once();
  }
  // Only the last request has an answer so far: unavailable, with a retry hint.
  caf::expected<user> last{caf::error{}};
  handles.back().receive([&](user& u) { last = u; }, [&](caf::error& e) { last = e; });
  REQUIRE_FALSE(last);
  CHECK(code_of(last) == errc::unavailable);
  CHECK(describe(last.error()).retry_after.count() >= 1);
  sched.run();  // the store catches up: the others are answered (not found), none is lost
  int not_found = 0;
  for (int i = 0; i + 1 < sent; ++i)
    handles[i].receive(
        [](user&) {},
        [&](caf::error& e) { not_found += static_cast<errc>(e.code()) == errc::not_found; });
  CHECK(not_found == sent - 1);
}

TEST_CASE_METHOD(fixture, "each handler reports how many messages wait behind it") {
  REQUIRE(ask(create_user{ctx(), "u-1", "Ann", "ann@example.com"}));
  depths->clear();
  for (int i = 0; i < 5; ++i) self->send(users, get_user{ctx(), "u-1"});
  sched.run_once();  // the front takes up the first: four wait behind it
  REQUIRE(depths->size() == 1);
  CHECK(depths->back() == 4);
  sched.run();
  CHECK(depths->size() == 5);
  CHECK(depths->back() == 0);
}
