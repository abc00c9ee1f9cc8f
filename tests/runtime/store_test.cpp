// The storage seams a capability's store is built from, on a real actor system and real
// SQLite files: group commit, the outbox with waiting pulls, the subscriber's inbox, and a
// saga participant's ledger.
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>

#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "runtime/core/error.hpp"
#include "runtime/events/feed.hpp"
#include "runtime/events/inbox.hpp"
#include "runtime/events/outbox.hpp"
#include "runtime/events/store.hpp"
#include "runtime/events/subscription.hpp"
#include "runtime/saga/ledger.hpp"
#include "runtime/saga/saga.hpp"
#include "runtime/storage/write_batch.hpp"
#include "tests/support/ping.hpp"
#include "tests/support/process.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

using write_atom = caf::atom_constant<caf::atom("write")>;
// A business answer of the kind a capability defines (core/error.hpp error_code).
inline constexpr error_code out_of_stock{"out_of_stock", 409};
using stats_atom = caf::atom_constant<caf::atom("stats")>;

class config : public caf::actor_system_config {
 public:
  config() {
    events::register_event_types(*this);
    saga::register_saga_types(*this);
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
    return make_error(out_of_stock, "none left");
  };
  auto r1 = saga::step_once<std::int64_t>(db, sys, "s2:reserve", reject);
  auto r2 = saga::step_once<std::int64_t>(db, sys, "s2:reserve", effect);
  REQUIRE_FALSE(r1);
  REQUIRE_FALSE(r2);
  CHECK(describe(r2.error()).name == "out_of_stock");
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

namespace {

// An owner's store that runs the local steps of `local_kv_saga`: put k (from the data) into
// `kv` and the saga's next log row with it, or neither.
struct owner_state {
  std::unique_ptr<events::store_core> core;
};

caf::behavior owner_store(caf::stateful_actor<owner_state>* self, std::string path,
                          std::shared_ptr<const saga::registry> sagas) {
  auto& st = self->state;
  st.core = std::make_unique<events::store_core>(self, path);
  st.core->db.migrate({"CREATE TABLE kv(k TEXT PRIMARY KEY, v INTEGER NOT NULL)"});
  saga::migrate_saga_log(st.core->db);
  return saga::log_handlers(*st.core, std::move(sagas)).or_else(st.core->handlers());
}

std::shared_ptr<const saga::definition> local_kv_saga() {
  auto d = std::make_shared<saga::definition>();
  d->name = "local-kv";
  saga::step put;
  put.name = "put";
  put.local = [](const saga::local_context& c) -> caf::expected<saga::json> {
    auto k = c.data.at("k").get<std::string>();
    c.db.prepare("INSERT INTO kv(k, v) VALUES (?1, 1)").bind(1, k).run();
    if (c.data.value("refuse", false)) return make_error(errc::conflict, "refused");
    if (c.data.value("throw", false)) throw std::runtime_error("the step broke");
    return saga::json{{"put", k}};
  };
  saga::step after;
  after.name = "after";
  after.action = [](saga::step_context& ctx) { ctx.succeed({{"after", true}}); };
  d->steps = {put, after};
  d->reply = [](const saga::json& data, const saga::json&) { return data; };
  return d;
}

// An owner's store knowing one saga definition, on a real actor system, and the host its
// instances run on (a directory that knows no other capability).
struct saga_owner {
  explicit saga_owner(std::shared_ptr<const saga::definition> def) {
    auto known = std::make_shared<saga::registry>();
    known->add(std::move(def));
    store = sys.spawn<caf::detached>(owner_store, path, known);
  }
  ~saga_owner() { self->send_exit(store, caf::exit_reason::user_shutdown); }

  saga::host host() const {
    return {"owner", store, std::make_shared<directory_view>(std::vector<std::string>{}, 10),
            nullptr};
  }
  std::optional<saga::saga_record> logged(const std::string& id) const {
    sqlite::database db{path};
    return saga::find(db, id);
  }
  bool logged_done(const std::string& id) const {
    auto r = logged(id);
    return r && r->state == saga::state_done;
  }

  test::temp_dir dir;
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::string path = dir.file("owner.db");
  caf::actor store;
};

saga::saga_record row_at(const std::string& id, std::int32_t step, const std::string& name) {
  saga::saga_record r;
  r.id = id;
  r.definition = "local-kv";
  r.version = 1;
  r.step = step;
  r.step_name = name;
  r.state = saga::state_running;
  r.attempts = 1;
  return r;
}

}  // namespace

TEST_CASE("a local saga step commits its effect and the saga's next log row together") {
  auto def = local_kv_saga();
  saga_owner owner{def};
  auto& self = owner.self;
  auto& path = owner.path;
  auto run = [&](const std::string& id, const saga::json& data) {
    caf::expected<std::string> out{caf::error{}};
    self->request(owner.store, 10s,
                  saga::run_local_step{row_at(id, 1, "after"), 0, data.dump(), id + ":put",
                                       trace_parent{}})
        .receive([&](std::string& r) { out = std::move(r); }, [&](caf::error& e) { out = e; });
    return out;
  };
  auto logged = [&](const std::string& id) { return owner.logged(id); };

  auto ok = run("s-1", {{"k", "a"}});
  REQUIRE(ok);
  CHECK(saga::json::parse(*ok) == saga::json{{"put", "a"}});
  auto row = logged("s-1");
  REQUIRE(row);
  CHECK(row->step == 1);
  CHECK(saga::json::parse(row->data) == saga::json{{"k", "a"}, {"put", "a"}});
  CHECK(count_rows(path, "kv") == 1);

  // A refusal is the step's answer; the saga has not moved: no row.
  auto refused = run("s-2", {{"k", "b"}, {"refuse", true}});
  REQUIRE_FALSE(refused);
  CHECK(describe(refused.error()).code == errc::conflict);
  CHECK_FALSE(logged("s-2"));
  // A step that throws leaves nothing at all.
  auto broken = run("s-3", {{"k", "c"}, {"throw", true}});
  REQUIRE_FALSE(broken);
  CHECK_FALSE(logged("s-3"));
  CHECK(count_rows(path, "kv") == 2);  // a and the refused b (its writes are its answer)
  // A step the store does not know is refused, not guessed at.
  saga::run_local_step unknown{row_at("s-4", 1, "after"), 1, "{}", "s-4:after", trace_parent{}};
  self->request(owner.store, 10s, unknown)
      .receive([&](std::string&) { FAIL("an unknown local step ran"); },
               [&](caf::error& e) { CHECK(describe(e).code == errc::invalid_argument); });

  // A whole instance: the local step, then the other, answered and logged done.
  auto instance = saga::start(owner.sys, owner.host(), def, "s-5", {{"k", "e"}},
                              trace_parent{"t", {}, {}, true});
  self->request(instance, 10s, saga::await_atom::value)
      .receive(
          [&](saga::result& r) {
            CHECK(r.outcome == "completed");
            CHECK(saga::json::parse(r.reply)["put"] == "e");
            CHECK(saga::json::parse(r.reply)["after"] == true);
          },
          [&](caf::error& e) { FAIL(owner.sys.render(e)); });
  CHECK(test::eventually([&] { return owner.logged_done("s-5"); }, 5s));
}

TEST_CASE("a saga definition with a local step in last place is refused") {
  auto d = std::make_shared<saga::definition>(*local_kv_saga());
  std::swap(d->steps[0], d->steps[1]);
  saga::registry known;
  CHECK_THROWS_AS(known.add(d), std::invalid_argument);
}

namespace {

// local-kv's put, then a read-only "look" at capability "far" (never available here) whose
// fallback reads kv in the owner's store, then "after".
std::shared_ptr<saga::definition> fallback_saga(std::shared_ptr<std::atomic<int>> fallbacks) {
  auto d = std::make_shared<saga::definition>(*local_kv_saga());
  d->name = "fallback-kv";
  saga::step look;
  look.name = "look";
  look.read_only = true;
  look.action = [](saga::step_context& ctx) {
    ctx.call<int>("far", test::ping{{}, 1}, [](int v) {
      return saga::json{{"via", "far"}, {"v", v}};
    });
  };
  look.fallback = [fallbacks](const saga::local_context& c,
                              const caf::error& cause) -> caf::expected<saga::json> {
    ++*fallbacks;
    auto& q = c.db.prepare("SELECT v FROM kv WHERE k = ?1");
    q.bind(1, c.data.at("lookup").get<std::string>());
    std::optional<std::int64_t> v;
    if (q.step()) v = q.int64(0);
    q.reset();
    if (!v) return make_error(errc::unavailable, "far is away and the key is unknown here");
    return saga::json{{"via", "fallback"}, {"v", *v}, {"cause", describe(cause).name}};
  };
  d->steps = {d->steps[0], look, d->steps[1]};
  return d;
}

}  // namespace

TEST_CASE("a read-only step's fallback stands in for a callee that is not answering") {
  auto fallbacks = std::make_shared<std::atomic<int>>(0);
  auto def = fallback_saga(fallbacks);
  saga_owner owner{def};
  auto h = owner.host();
  h.view = std::make_shared<directory_view>(std::vector<std::string>{"far"}, 10);
  auto await = [&](caf::actor instance) {
    saga::result out;
    owner.self->request(instance, 10s, saga::await_atom::value)
        .receive([&](saga::result& r) { out = std::move(r); },
                 [&](caf::error& e) { FAIL(owner.sys.render(e)); });
    return out;
  };

  auto found = await(saga::start(owner.sys, h, def, "f-1", {{"k", "a"}, {"lookup", "a"}},
                                 trace_parent{"t", {}, {}, true}));
  CHECK(found.outcome == "completed");
  auto reply = saga::json::parse(found.reply);
  CHECK(reply["via"] == "fallback");
  CHECK(reply["v"] == 1);
  CHECK(reply["cause"] == "unavailable");  // no handle for "far": nothing was sent
  CHECK(reply["after"] == true);
  CHECK(*fallbacks == 1);

  // The fallback's refusal ends the step at once: no retry, the steps before undone.
  auto missing = await(saga::start(owner.sys, h, def, "f-2", {{"k", "b"}, {"lookup", "zzz"}},
                                   trace_parent{"t", {}, {}, true}));
  CHECK(missing.outcome == "compensated");
  CHECK(saga::json::parse(missing.reply)["failure"]["code"] == "unavailable");
  CHECK(saga::json::parse(missing.reply)["failure"]["step"] == "look");
  CHECK(*fallbacks == 2);

  // Only a read-only step may have one: a fallback has no log row to stand on.
  auto wrong = std::make_shared<saga::definition>(*def);
  wrong->steps[1].read_only = false;
  saga::registry known;
  CHECK_THROWS_AS(known.add(wrong), std::invalid_argument);
}

TEST_CASE("past the answer a refused step is retried until done, never undone") {
  auto d = std::make_shared<saga::definition>(*local_kv_saga());
  d->name = "refused-late";
  d->retry = backoff_policy{std::chrono::milliseconds{1}, std::chrono::milliseconds{5}};
  d->stuck_after = 2;
  auto undone = std::make_shared<std::atomic<int>>(0);
  auto refusals = std::make_shared<std::atomic<int>>(0);
  d->steps[0].compensation = [undone](saga::step_context& ctx) {
    ++*undone;
    ctx.succeed();
  };
  d->steps[1].retry_until_done = true;  // "after": done, so the answer is certain
  saga::step late;
  late.name = "late";
  late.retry_until_done = true;
  late.action = [refusals](saga::step_context& ctx) {
    if (++*refusals <= 3) return ctx.fail(make_error(errc::conflict, "not yet"));
    ctx.succeed({{"late", true}});
  };
  d->steps.push_back(late);
  saga_owner owner{d};
  auto instance = saga::start(owner.sys, owner.host(), d, "s-late", {{"k", "z"}},
                              trace_parent{"t", {}, {}, true});
  owner.self->request(instance, 10s, saga::await_atom::value)
      .receive([&](saga::result& r) { CHECK(r.outcome == "completed"); },
               [&](caf::error& e) { FAIL(owner.sys.render(e)); });
  CHECK(test::eventually([&] { return owner.logged_done("s-late"); }, 5s));
  CHECK(owner.logged("s-late")->outcome == "completed");
  CHECK(refusals->load() == 4);
  CHECK(undone->load() == 0);
}

namespace {

// local-kv with two more steps after the local one: "first", then "second" pipelined behind
// it. Each action and compensation appends its name to `trail`; `fail_first` makes "first"
// fail transiently on every attempt.
struct pipelined_trail {
  std::mutex mtx;
  std::vector<std::string> names;
  void add(const std::string& name) {
    std::lock_guard<std::mutex> lock{mtx};
    names.push_back(name);
  }
  std::vector<std::string> get() {
    std::lock_guard<std::mutex> lock{mtx};
    return names;
  }
};

std::shared_ptr<saga::definition> pipelined_saga(std::shared_ptr<pipelined_trail> trail,
                                                 bool fail_first,
                                                 std::function<void()> in_second = nullptr) {
  auto d = std::make_shared<saga::definition>(*local_kv_saga());
  d->name = "pipelined";
  d->max_attempts = 2;
  d->retry = backoff_policy{std::chrono::milliseconds{1}, std::chrono::milliseconds{5}};
  d->steps.pop_back();  // "after"
  auto step_named = [trail](const std::string& name, bool fails) {
    saga::step s;
    s.name = name;
    s.action = [trail, name, fails](saga::step_context& ctx) {
      trail->add(name);
      if (fails) return ctx.fail(make_error(errc::unavailable, "not now"));
      ctx.succeed();
    };
    s.compensation = [trail, name](saga::step_context& ctx) {
      trail->add(name + ".undo");
      ctx.succeed();
    };
    return s;
  };
  d->steps[0].compensation = [trail](saga::step_context& ctx) {
    trail->add("put.undo");
    ctx.succeed();
  };
  auto first = step_named("first", fail_first);
  auto second = step_named("second", false);
  second.pipelined = true;
  if (in_second) {
    auto action = second.action;
    second.action = [in_second, action](saga::step_context& ctx) {
      in_second();
      action(ctx);
    };
  }
  d->steps.push_back(first);
  d->steps.push_back(second);
  return d;
}

}  // namespace

TEST_CASE("a pipelined saga step is sent under the row written before the step ahead of it") {
  auto trail = std::make_shared<pipelined_trail>();
  std::optional<saga::saga_record> seen_by_second;
  std::function<void()> peek;
  auto d = pipelined_saga(trail, false, [&] { peek(); });
  saga_owner owner{d};
  peek = [&] { seen_by_second = owner.logged("s-p"); };
  auto instance =
      saga::start(owner.sys, owner.host(), d, "s-p", {{"k", "p"}}, trace_parent{"t", {}, {}, true});
  owner.self->request(instance, 10s, saga::await_atom::value)
      .receive([&](saga::result& r) { CHECK(r.outcome == "completed"); },
               [&](caf::error& e) { FAIL(owner.sys.render(e)); });
  CHECK(test::eventually([&] { return owner.logged_done("s-p"); }, 5s));
  // When "second" was sent, the newest row was still the one the local step wrote before
  // "first", and it named "second" as possibly sent.
  REQUIRE(seen_by_second);
  CHECK(seen_by_second->step == 1);
  CHECK(seen_by_second->step_name == "first");
  CHECK(seen_by_second->reach == 2);
  CHECK(trail->get() == std::vector<std::string>{"first", "second"});
}

TEST_CASE("a resumed saga that fails before passing its row's reach compensates from the reach") {
  auto trail = std::make_shared<pipelined_trail>();
  auto d = pipelined_saga(trail, true);
  saga_owner owner{d};
  // The row the local step wrote before "first", covering "second", which may have been sent
  // when the process died.
  auto row = row_at("s-r", 1, "first");
  row.definition = d->name;
  row.reach = 2;
  row.data = saga::json{{"k", "r"}, {"put", "r"}}.dump();
  auto instance = saga::resume(owner.sys, owner.host(), d, row);
  owner.self->request(instance, 10s, saga::await_atom::value)
      .receive([&](saga::result& r) { CHECK(r.outcome == "compensated"); },
               [&](caf::error& e) { FAIL(owner.sys.render(e)); });
  CHECK(test::eventually([&] { return owner.logged_done("s-r"); }, 5s));
  // "first" failed (its logged attempt counts as sent: one try left); "second" is undone
  // although this run never sent it.
  CHECK(trail->get() == std::vector<std::string>{"first", "second.undo", "first.undo", "put.undo"});

  // The same failure in a run that started fresh knows "second" was never sent, and that
  // "first", refused unsent (`unavailable`) at every attempt, did nothing to undo.
  auto fresh_trail = std::make_shared<pipelined_trail>();
  auto fresh = pipelined_saga(fresh_trail, true);
  saga_owner fresh_owner{fresh};
  auto started = saga::start(fresh_owner.sys, fresh_owner.host(), fresh, "s-f", {{"k", "f"}},
                             trace_parent{"t", {}, {}, true});
  fresh_owner.self->request(started, 10s, saga::await_atom::value)
      .receive([&](saga::result& r) { CHECK(r.outcome == "compensated"); },
               [&](caf::error& e) { FAIL(fresh_owner.sys.render(e)); });
  CHECK(fresh_trail->get() == std::vector<std::string>{"first", "first", "put.undo"});
}

TEST_CASE("a pipelined saga step without a logged step ahead of it is refused") {
  auto trail = std::make_shared<pipelined_trail>();
  saga::registry known;
  auto first_place = pipelined_saga(trail, false);
  first_place->steps[0].pipelined = true;  // the local step, first
  CHECK_THROWS_AS(known.add(first_place), std::invalid_argument);
  auto after_read_only = pipelined_saga(trail, false);
  after_read_only->steps[1].read_only = true;  // "first" writes no row
  CHECK_THROWS_AS(known.add(after_read_only), std::invalid_argument);
  CHECK_NOTHROW(known.add(pipelined_saga(trail, false)));
}
