// The storage seams a capability's store is built from, on a real actor system and real
// SQLite files: group commit, the outbox with waiting pulls, the subscriber's inbox, and a
// saga participant's ledger.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "runtime/core/error.hpp"
#include "runtime/events/feed.hpp"
#include "runtime/events/inbox.hpp"
#include "runtime/events/outbox.hpp"
#include "runtime/events/subscription.hpp"
#include "runtime/saga/ledger.hpp"
#include "runtime/storage/write_batch.hpp"
#include "tests/support/process.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

using write_atom = caf::atom_constant<caf::atom("write")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;

class config : public caf::actor_system_config {
 public:
  config() {
    events::register_event_types(*this);
    add_error_category(error_category, render_error);
  }
};

// A store like a capability's: rows in `kv`, an event per row, group commit, an outbox feed.
struct kv_state {
  std::unique_ptr<sqlite::database> db;
  std::unique_ptr<sqlite::write_batch> batch;
  std::unique_ptr<events::outbox_feed> feed;
};

caf::behavior kv_store(caf::stateful_actor<kv_state>* self, std::string path) {
  auto& st = self->state;
  st.db = std::make_unique<sqlite::database>(path);
  st.db->migrate({"CREATE TABLE kv(k TEXT PRIMARY KEY, v INTEGER NOT NULL)"});
  events::migrate_outbox(*st.db);
  st.batch = std::make_unique<sqlite::write_batch>(self, *st.db);
  st.feed = std::make_unique<events::outbox_feed>(self, *st.db, *st.batch);
  st.batch->on_commit([self] { self->state.feed->committed(); });
  return {
      // Inserts k; a taken key throws inside the request (its savepoint is undone).
      [self](write_atom, std::string& k, std::int64_t v) -> caf::result<std::int64_t> {
        auto rp = self->make_response_promise<std::int64_t>();
        auto& db = *self->state.db;
        self->state.batch->answer(rp, [&]() -> caf::expected<std::int64_t> {
          db.prepare("INSERT INTO kv(k, v) VALUES (?1, ?2)").bind(1, k).bind(2, v).run();
          events::event_envelope e;
          e.type = "Written";
          e.source = "kv";
          e.aggregate_id = k;
          e.payload = std::to_string(v);
          events::append(db, e);
          return v;
        });
        return rp;
      },
      [self](events::pull_events& msg) -> caf::result<events::events_page> {
        auto rp = self->make_response_promise<events::events_page>();
        self->state.feed->pull(msg, rp);
        return rp;
      },
      [self](stats_atom) {
        return std::make_tuple(static_cast<std::int64_t>(self->state.batch->commits()),
                               static_cast<std::int64_t>(self->state.batch->requests()));
      },
      [self](sqlite::flush_atom, std::uint64_t g) { self->state.batch->flush(g); },
      [self](events::feed_wait_atom, std::uint64_t id) { self->state.feed->expire(id); },
  };
}

std::int64_t count_rows(const std::string& path, const std::string& table) {
  sqlite::database db{path};
  auto& q = db.prepare("SELECT COUNT(*) FROM " + table);
  q.step();
  return q.int64(0);
}

}  // namespace

TEST_CASE("group commit: concurrent writes share commits, a failing one fails alone, all on disk") {
  test::temp_dir dir;
  auto path = dir.file("kv.db");
  {
    config cfg;
    caf::actor_system sys{cfg};
    auto store = sys.spawn<caf::detached>(kv_store, path);
    caf::scoped_actor self{sys};
    // 2,000 requests sent without waiting, as concurrent clients would; key 7 comes twice.
    constexpr int n = 2000;
    for (int i = 0; i < n; ++i)
      self->send(store, write_atom::value, "k" + std::to_string(i), std::int64_t{i});
    self->send(store, write_atom::value, std::string("k7"), std::int64_t{-1});
    int ok = 0, failed = 0;
    for (int i = 0; i < n + 1; ++i)
      self->receive([&](std::int64_t) { ++ok; },
                    [&](caf::error& err) {
                      CHECK(describe(err).code == errc::internal);
                      ++failed;
                    },
                    caf::after(10s) >> [&] { FAIL("no answer"); });
    CHECK(ok == n);
    CHECK(failed == 1);
    std::int64_t commits = 0, requests = 0;
    self->request(store, 5s, stats_atom::value)
        .receive(
            [&](std::int64_t c, std::int64_t r) {
              commits = c;
              requests = r;
            },
            [&](caf::error&) { FAIL("no stats"); });
    CHECK(requests == n + 1);
    INFO("commits: " << commits);
    CHECK(commits < n / 4);  // batched: far fewer fsyncs than requests
    self->send_exit(store, caf::exit_reason::user_shutdown);
  }
  // Everything acknowledged is in the file; the failed duplicate left no row and no event.
  CHECK(count_rows(path, "kv") == 2000);
  CHECK(count_rows(path, "outbox") == 2000);
}

TEST_CASE("a waiting pull is answered when events commit, and reads by offset in order") {
  test::temp_dir dir;
  config cfg;
  caf::actor_system sys{cfg};
  auto store = sys.spawn<caf::detached>(kv_store, dir.file("kv.db"));
  caf::scoped_actor self{sys};
  events::pull_events pull{{}, 0, 10, 20000};
  auto started = std::chrono::steady_clock::now();
  auto waiting = self->request(store, 30s, pull);
  // The pull waits: nothing is there yet. Then one write wakes it.
  self->request(store, 5s, write_atom::value, std::string("a"), std::int64_t{1})
      .receive([](std::int64_t) {}, [](caf::error&) { FAIL("write failed"); });
  waiting.receive(
      [&](events::events_page& page) {
        REQUIRE(page.events.size() == 1);
        CHECK(page.events[0].offset == 1);
        CHECK(page.events[0].aggregate_id == "a");
        CHECK(page.events[0].aggregate_seq == 1);
        CHECK(page.events[0].type == "Written");
      },
      [](caf::error&) { FAIL("pull failed"); });
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  for (int i = 2; i <= 5; ++i)
    self->request(store, 5s, write_atom::value, "k" + std::to_string(i), std::int64_t{i})
        .receive([](std::int64_t) {}, [](caf::error&) { FAIL("write failed"); });
  self->request(store, 5s, events::pull_events{{}, 2, 2, 0})
      .receive(
          [&](events::events_page& page) {
            REQUIRE(page.events.size() == 2);
            CHECK(page.events[0].offset == 3);
            CHECK(page.events[1].offset == 4);
            CHECK(page.last_offset == 5);
          },
          [](caf::error&) { FAIL("pull failed"); });
  // A pull past the end with a short wait ends empty.
  self->request(store, 5s, events::pull_events{{}, 5, 10, 50})
      .receive([&](events::events_page& page) { CHECK(page.events.empty()); },
               [](caf::error&) { FAIL("pull failed"); });
  self->send_exit(store, caf::exit_reason::user_shutdown);
}

TEST_CASE("the inbox applies each event once, by id and by offset") {
  test::temp_dir dir;
  sqlite::database db{dir.file("in.db")};
  events::migrate_inbox(db);
  int effects = 0;
  auto effect = [&](const events::event_envelope&) { ++effects; };
  events::event_envelope e1{1, "id-1", "T", "p", "a", 1, 1, "", "{}"};
  events::event_envelope e2{2, "id-2", "T", "p", "a", 2, 1, "", "{}"};
  {
    sqlite::transaction tx{db};
    CHECK(events::apply_once(db, "s", e1, effect));
    CHECK(events::apply_once(db, "s", e2, effect));
    CHECK_FALSE(events::apply_once(db, "s", e1, effect));  // below the offset
    tx.commit();
  }
  CHECK(effects == 2);
  CHECK(events::inbox_offset(db, "s") == 2);
  CHECK(events::inbox_offset(db, "other") == 0);
  // An effect that throws leaves neither the offset nor the id behind.
  events::event_envelope e3{3, "id-3", "T", "p", "a", 3, 1, "", "{}"};
  {
    sqlite::transaction tx{db};
    CHECK_THROWS(events::apply_once(db, "s", e3, [](auto&) { throw std::runtime_error("x"); }));
  }
  CHECK(events::inbox_offset(db, "s") == 2);
  {
    sqlite::transaction tx{db};
    CHECK(events::apply_once(db, "s", e3, effect));
    tx.commit();
  }
  CHECK(effects == 3);
}

TEST_CASE("the ledger gives repeats the first answer and makes a late step a no-op") {
  test::temp_dir dir;
  config cfg;
  caf::actor_system sys{cfg};
  sqlite::database db{dir.file("l.db")};
  saga::migrate_ledger(db);
  int effects = 0, undos = 0;
  auto effect = [&]() -> caf::expected<std::int64_t> { return ++effects * 100; };
  auto undo = [&]() -> caf::expected<std::int64_t> { return -(++undos); };
  auto nothing = [] { return std::int64_t{0}; };

  auto first = saga::step_once<std::int64_t>(db, sys, "s1:reserve", effect);
  auto again = saga::step_once<std::int64_t>(db, sys, "s1:reserve", effect);
  REQUIRE(first);
  REQUIRE(again);
  CHECK(*first == 100);
  CHECK(*again == 100);
  CHECK(effects == 1);

  // A rejection is an answer, recorded like a value.
  auto reject = [&]() -> caf::expected<std::int64_t> {
    ++effects;
    return make_error(errc::out_of_stock, "none left");
  };
  auto r1 = saga::step_once<std::int64_t>(db, sys, "s2:reserve", reject);
  auto r2 = saga::step_once<std::int64_t>(db, sys, "s2:reserve", effect);
  REQUIRE_FALSE(r1);
  REQUIRE_FALSE(r2);
  CHECK(describe(r2.error()).code == errc::out_of_stock);
  CHECK(effects == 2);

  // Compensation after the step: undone once.
  auto c1 = saga::compensate_once<std::int64_t>(db, sys, "s1:reserve", undo, nothing);
  auto c2 = saga::compensate_once<std::int64_t>(db, sys, "s1:reserve", undo, nothing);
  CHECK(*c1 == -1);
  CHECK(*c2 == -1);
  CHECK(undos == 1);

  // Compensation before the step: a tombstone; the late step does nothing.
  auto early = saga::compensate_once<std::int64_t>(db, sys, "s3:reserve", undo, nothing);
  CHECK(*early == 0);
  auto late = saga::step_once<std::int64_t>(db, sys, "s3:reserve", effect);
  REQUIRE_FALSE(late);
  CHECK(describe(late.error()).code == errc::compensated);
  CHECK(effects == 2);
  CHECK(undos == 1);
}
