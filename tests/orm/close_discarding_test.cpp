// A session closed with flushed changes it never committed rolls them back — and says so, on
// both fronts: a warning through the engine's log sink, or UsageError with strict_close.
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>
#include <corm/orm.hpp>

#include <memory>
#include <string>
#include <vector>

#include "orm/orm_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::orm_test;
using corm::test::OrmDb;
namespace asio = boost::asio;

namespace {
struct Warnings {
  std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();
  LogSink sink() const {
    return [w = lines](LogLevel level, std::string_view line) {
      if (level == LogLevel::warning) w->emplace_back(line);
    };
  }
};

std::shared_ptr<Note> note(const std::string& title) {
  auto n = std::make_shared<Note>();
  n->title = title;
  n->body = "b";
  return n;
}

std::int64_t notes(Engine& e) {
  Connection c = e.connect();
  return c.exec_driver_sql("SELECT count(*) FROM orm_notes").scalar_one<std::int64_t>();
}
}  // namespace

TEST_CASE("closing a session with flushed, uncommitted changes rolls them back with a warning", "[orm][close]") {
  OrmDb db;
  Warnings w;
  EngineOptions opts;
  opts.log = w.sink();
  Engine engine = create_engine(db.url, opts);
  {
    Session s(engine);
    s.add(note("kept"));
    s.commit();
    s.add(note("flushed only"));
    s.flush();
    s.close();
  }
  CHECK(notes(engine) == 1);
  REQUIRE(w.lines->size() == 1);
  CHECK_THAT(w.lines->front(), Catch::Contains("flushed changes that were never committed") &&
                                   Catch::Contains("commit() before close()"));
  {
    Session s(engine);  // destroyed without close(): the same warning
    s.add(note("dropped"));
    s.flush();
  }
  CHECK(notes(engine) == 1);
  CHECK(w.lines->size() == 2);
  {
    Session s(engine);  // rolled back on purpose, or nothing flushed: no warning
    s.add(note("undone"));
    s.flush();
    s.rollback();
    s.close();
    Session quiet(engine);
    (void)quiet.scalars(select<Note>());
    quiet.close();
  }
  CHECK(w.lines->size() == 2);
}

TEST_CASE("strict_close turns the warning into UsageError once the session is closed", "[orm][close]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  SessionOptions so;
  so.strict_close = true;
  Session s(engine, so);
  s.add(note("flushed only"));
  s.flush();
  CHECK_THROWS_AS(s.close(), UsageError);
  CHECK(notes(engine) == 0);
  s.add(note("after"));  // the session was closed all the same and is usable again
  s.commit();
  CHECK(notes(engine) == 1);
}

TEST_CASE("async: closing a session with flushed, uncommitted changes warns, or throws with strict_close",
          "[orm][async][close]") {
  OrmDb db;
  Warnings w;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    EngineOptions opts;
    opts.log = w.sink();
    AsyncEngine engine = create_async_engine(ex, db.url, opts);
    {
      AsyncSession s(engine);
      s.add(note("flushed only"));
      co_await s.flush();
      co_await s.close();
    }
    CHECK(w.lines->size() == 1);
    SessionOptions so;
    so.strict_close = true;
    AsyncSession strict(engine, so);
    strict.add(note("flushed only"));
    co_await strict.flush();
    bool threw = false;
    try {
      co_await strict.close();
    } catch (const UsageError& e) {
      threw = true;
      CHECK_THAT(e.what(), Catch::Contains("never committed"));
    }
    CHECK(threw);
  });
  Engine sync = create_engine(db.url);
  CHECK(notes(sync) == 0);
}
