// Session reads sharing round trips (EngineOptions::pipeline_session_reads): on PostgreSQL at
// READ COMMITTED, the plain reads of sessions that hold no connection yet travel in one pipeline
// per batch; every reader still gets its own rows or its own error, a cancelled reader leaves at
// once, and a session that has written, begun or asked for an isolation level keeps its reads on
// its own connection. On SQLite nothing is pipelined and the same sessions behave the same.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "corm/orm/async_session.hpp"
#include "orm/orm_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::orm_test;
using corm::test::OrmDb;
using corm::test::QueryCounter;
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

namespace {

// n authors, then one session read: a first read tells the engine the server's default
// isolation (pipelining starts after it).
asio::awaitable<void> seed_authors(AsyncEngine& engine, int n) {
  {
    AsyncSession s(engine);
    for (int i = 1; i <= n; ++i) {
      auto a = std::make_shared<Author>();
      a->name = "author-" + std::to_string(i);
      s.add(a);
    }
    co_await s.commit();
    co_await s.close();
  }
  AsyncSession first(engine);
  CHECK((co_await first.get<Author>(std::int64_t{1}))->name == "author-1");
  co_await first.close();
}

// Every coroutine's spawn completion, so a test waits for all of them and sees their errors.
struct Tasks {
  int pending = 0;
  std::vector<std::exception_ptr> errors;
  auto done() {
    ++pending;
    return [this](std::exception_ptr e) {
      if (e) errors.push_back(e);
      --pending;
    };
  }
  asio::awaitable<void> wait(asio::any_io_executor ex) {
    asio::steady_timer t(ex);
    while (pending > 0) {
      t.expires_after(1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    for (auto& e : errors) std::rethrow_exception(e);
  }
};

}  // namespace

TEST_CASE("64 coroutines' session reads share round trips and each gets its own rows", "[orm][async][pipeline]") {
  OrmDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 4;
    opts.pool.max_overflow = 0;
    AsyncEngine engine = create_async_engine(ex, db.url, opts);
    co_await seed_authors(engine, 100);
    CHECK(engine.pipelines_reads() == test::is_postgres());

    constexpr int tasks = 64, reads_each = 10;
    int wrong = 0, sessions_with_one_statement = 0;
    auto read = [&](std::int64_t id) -> asio::awaitable<void> {
      AsyncSession s(engine);
      auto a = co_await s.get<Author>(id);
      if (!a || a->id != id || a->name != "author-" + std::to_string(id)) ++wrong;
      if (s.stats().statements() == 1) ++sessions_with_one_statement;
      co_await s.close();
    };

    // Wave 1, deterministic: the whole pool is held while 64 sessions ask for a row, so every
    // read is waiting when the connections come back. PostgreSQL then sends them as a handful of
    // batches (one per dispatcher pass: 5 here, against 64 statements unpipelined); SQLite runs
    // them one by one.
    QueryCounter statements(engine);
    std::vector<AsyncConnection> held;
    for (int i = 0; i < 4; ++i) held.push_back(co_await engine.connect());
    Tasks wave;
    for (int t = 0; t < tasks; ++t) asio::co_spawn(ex, read(t + 1), wave.done());
    asio::steady_timer pause(ex);
    pause.expires_after(50ms);
    co_await pause.async_wait(asio::use_awaitable);
    for (auto& c : held) co_await c.close();
    co_await wave.wait(ex);
    const int wave_sent = statements.take();
    if (test::is_postgres()) CHECK(wave_sent <= 8);
    else CHECK(wave_sent == tasks);

    // Then 64 coroutines x 10 sessions each, free-running: every read still gets its own row.
    Tasks all;
    for (int t = 0; t < tasks; ++t)
      asio::co_spawn(ex, [&, t]() -> asio::awaitable<void> {
        for (int k = 0; k < reads_each; ++k) co_await read((t * reads_each + k) % 100 + 1);
      }, all.done());
    co_await all.wait(ex);
    const int sent = statements.take();
    CHECK(wrong == 0);
    CHECK(sessions_with_one_statement == tasks + tasks * reads_each);  // each session counts its own read
    if (test::is_postgres()) CHECK(sent <= tasks * reads_each);
    else CHECK(sent == tasks * reads_each);
    const PoolStatus st = engine.pool_status();
    CHECK(st.checked_out == 0);
    CHECK(st.open <= 4);
  });
}

TEST_CASE("a read that fails in a shared batch fails only its own session", "[orm][async][pipeline]") {
  OrmDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 2;
    AsyncEngine engine = create_async_engine(ex, db.url, opts);
    co_await seed_authors(engine, 10);
    {
      auto c = co_await engine.connect();  // orm_tags goes away: every read of Tag fails
      co_await c.execute_script("DROP TABLE orm_book_tags");
      co_await c.execute_script("DROP TABLE orm_tags");
      co_await c.commit();
      co_await c.close();
    }
    int authors_ok = 0, tags_failed = 0;
    std::vector<std::string> messages;
    Tasks all;
    for (int t = 0; t < 40; ++t)
      asio::co_spawn(ex, [&, t]() -> asio::awaitable<void> {
        AsyncSession s(engine);
        if (t % 2 == 0) {
          auto a = co_await s.get<Author>(std::int64_t{t % 10 + 1});
          if (a && a->name == "author-" + std::to_string(t % 10 + 1)) ++authors_ok;
        } else {
          try {
            (void)co_await s.get<Tag>(std::int64_t{1});
          } catch (const ProgrammingError& e) {
            ++tags_failed;
            messages.emplace_back(e.what());
          }
        }
        co_await s.close();
      }, all.done());
    co_await all.wait(ex);
    CHECK(authors_ok == 20);
    CHECK(tags_failed == 20);
    REQUIRE(!messages.empty());
    CHECK_THAT(messages.front(), Catch::Contains("orm_tags"));
    CHECK(engine.pool_status().checked_out == 0);
    // The connections are clean: a session on each of them still reads.
    AsyncSession after(engine);
    CHECK((co_await after.scalars(select<Author>())).size() == 10);
    co_await after.close();
  });
}

TEST_CASE("a session reader cancelled while waiting leaves at once and the others finish", "[orm][async][pipeline]") {
  OrmDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 1;
    opts.pool.max_overflow = 0;
    AsyncEngine engine = create_async_engine(ex, db.url, opts);
    co_await seed_authors(engine, 3);
    // The only connection is held by a session in a transaction.
    AsyncSession writer(engine);
    auto tx = co_await writer.begin();
    // Reader 1 waits for that connection; reader 2 queues behind it (pipelined) or waits in the
    // pool (SQLite); both are bounded by a timer only for reader 2.
    bool first_done = false;
    Tasks all;
    asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
      AsyncSession s(engine);
      first_done = (co_await s.get<Author>(std::int64_t{2}))->name == "author-2";
      co_await s.close();
    }, all.done());
    asio::steady_timer wait(ex);
    wait.expires_after(20ms);
    co_await wait.async_wait(asio::use_awaitable);
    AsyncSession second(engine);
    asio::steady_timer limit(ex);
    limit.expires_after(50ms);
    const auto t0 = std::chrono::steady_clock::now();
    auto which = co_await (second.get<Author>(std::int64_t{3}) || limit.async_wait(asio::use_awaitable));
    CHECK(which.index() == 1);  // the timer won: the read was cancelled
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    CHECK_FALSE(first_done);
    co_await tx.commit();  // the connection comes back: reader 1 finishes
    co_await writer.close();
    co_await all.wait(ex);
    CHECK(first_done);
    // The cancelled session is still usable, and nothing leaked.
    CHECK((co_await second.get<Author>(std::int64_t{3}))->name == "author-3");
    co_await second.close();
    asio::steady_timer settle(ex);
    for (int i = 0; i < 100 && engine.pool_status().checked_out != 0; ++i) {
      settle.expires_after(5ms);
      co_await settle.async_wait(asio::use_awaitable);
    }
    CHECK(engine.pool_status().checked_out == 0);
  });
}

TEST_CASE("after its first write a session reads on its own connection and sees its own rows",
          "[orm][async][pipeline]") {
  OrmDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    co_await seed_authors(engine, 5);
    AsyncSession s(engine);
    CHECK((co_await s.scalars(select<Author>())).size() == 5);  // pipelined (PostgreSQL): no connection held
    auto a = std::make_shared<Author>();
    a->name = "uncommitted";
    s.add(a);
    co_await s.flush();
    // Only the session's own connection sees the flushed, uncommitted row.
    CHECK((co_await s.scalars(select<Author>())).size() == 6);
    AsyncSession other(engine);
    CHECK((co_await other.scalars(select<Author>())).size() == 5);
    co_await other.close();
    co_await s.rollback();
    co_await s.close();

    if (!test::is_postgres()) co_return;
    // A session that asks for an isolation level never pipelines: at REPEATABLE READ all its
    // reads share one snapshot.
    SessionOptions iso;
    iso.isolation_level = IsolationLevel::repeatable_read;
    AsyncSession snap(engine, iso);
    CHECK((co_await snap.scalars(select<Author>())).size() == 5);
    {
      AsyncSession writer(engine);
      auto b = std::make_shared<Author>();
      b->name = "later";
      writer.add(b);
      co_await writer.commit();
      co_await writer.close();
    }
    // One snapshot for the whole REPEATABLE READ session: the new row is not there.
    auto again = co_await snap.execute(text("SELECT count(*) FROM orm_authors"));
    CHECK(again.scalar_one<std::int64_t>() == 5);
    co_await snap.close();
  });
}
