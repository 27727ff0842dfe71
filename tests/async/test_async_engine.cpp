// The async front against a real database: concurrency over a bounded pool, FIFO waiters,
// timeouts, cancellation that leaves connections clean, batches, and misuse detection.
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <thread>

#include "support/async_test.hpp"
#include "support/test_db.hpp"

// GCC 12 cannot keep a braced parameter list alive across co_await ("array used as
// initializer"), so these tests bind values with text(...).bind(...), as docs/async.md advises.

using namespace corm;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

// A statement that takes about `ms` milliseconds on either backend.
std::string slow_query(int ms) {
  if (test::is_postgres()) return "SELECT pg_sleep(" + std::to_string(ms / 1000.0) + ")";
  if (test::is_mysql()) return "SELECT SLEEP(" + std::to_string(ms / 1000.0) + ")";
  // SQLite has no sleep: a recursive count long enough to be interrupted.
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
         std::to_string(ms * 20000) + ") SELECT count(*) FROM c";
}

awaitable<void> sleep_for(asio::any_io_executor ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex, d);
  co_await t.async_wait(use_awaitable);
}

}  // namespace

TEST_CASE("async: execute, commit and read back on one connection", "[async]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    auto conn = co_await engine.connect();
    const auto t = quote_identifier(conn.dialect(), test::unique_name("async_basic"));
    co_await conn.execute_script("CREATE TABLE " + t + " (id INTEGER PRIMARY KEY, name TEXT)");
    co_await conn.execute(text("INSERT INTO " + t + " VALUES (:id, :n)").bind("id", 1).bind("n", "Kim"));
    CHECK(conn.in_transaction());
    co_await conn.commit();
    auto other = co_await engine.connect();
    auto r = co_await other.execute(text("SELECT name FROM " + t + " WHERE id = :id").bind("id", 1));
    CHECK(r.scalar_one<std::string>() == "Kim");
    co_await other.close();
    co_await conn.close();
    CHECK(engine.pool_status().checked_out == 0);
  });
}

TEST_CASE("async: an idle connection handed out at once still reports checkout and checkin", "[async][pool][events]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    int connects = 0, checkouts = 0, checkins = 0;
    engine.events().on_connect([&](const ConnectionEvent&) { ++connects; });
    engine.events().on_checkout([&](const ConnectionEvent&) { ++checkouts; });
    auto checkin_id = engine.events().on_checkin([&](const ConnectionEvent&) { ++checkins; });
    for (int i = 0; i < 3; ++i) {
      auto conn = co_await engine.connect();  // the 2nd and 3rd find the first one idle
      auto r = co_await conn.execute(text("SELECT 1"));
      CHECK(r.scalar_one<std::int64_t>() == 1);
      CHECK(engine.pool_status().checked_out == 1);
      co_await conn.close();
      CHECK(engine.pool_status().checked_out == 0);
      CHECK(engine.pool_status().idle == 1);
    }
    CHECK(connects == 1);
    CHECK(engine.connections_opened() == 1);
    CHECK(checkouts == 3);
    CHECK(checkins == 3);
    engine.events().remove(checkin_id);
    auto conn = co_await engine.connect();
    co_await conn.close();
    CHECK(checkouts == 4);
    CHECK(checkins == 3);  // removed: no longer called
  });
}

TEST_CASE("async: 500 concurrent coroutines on one thread share a pool of 8", "[async][pool]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 8;
    opts.pool.max_overflow = 2;
    opts.pool.pool_timeout = 60s;
    auto engine = create_async_engine(ex, test::database_url(), opts);
    int connects = 0, done = 0, ok = 0;
    std::size_t max_open = 0;
    engine.events().on_connect([&](const ConnectionEvent&) { ++connects; });
    for (int i = 0; i < 500; ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> awaitable<void> {
            try {
              auto conn = co_await engine.connect();
              max_open = std::max(max_open, engine.pool_status().open);
              auto r = co_await conn.execute(text("SELECT :i").bind("i", i));
              if (r.scalar_one<int>() == i) ++ok;
              co_await conn.close();
            } catch (...) {
            }
            ++done;
          },
          asio::detached);
    }
    while (done < 500) co_await sleep_for(ex, 5ms);
    CHECK(ok == 500);
    CHECK(max_open <= 10);
    CHECK(engine.pool_status().checked_out == 0);
    CHECK(engine.pool_status().waiters == 0);
    // Overflow connections close on check-in; at most pool_size + max_overflow were ever open at
    // once, and the pool keeps pool_size of them.
    CHECK(engine.pool_status().open <= 8);
    CHECK(connects >= 1);
  });
}

TEST_CASE("async: waiters get connections first come, first served", "[async][pool]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 1;
    opts.pool.max_overflow = 0;
    opts.pool.pool_timeout = 10s;
    auto engine = create_async_engine(ex, test::database_url(), opts);
    auto held = std::make_unique<AsyncConnection>(co_await engine.connect());
    std::vector<int> order;
    int finished = 0;
    for (int i = 0; i < 5; ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> awaitable<void> {
            auto c = co_await engine.connect();
            order.push_back(i);
            co_await sleep_for(ex, 2ms);
            co_await c.close();
            ++finished;
          },
          asio::detached);
      co_await sleep_for(ex, 2ms);  // queue them in a known order
    }
    CHECK(engine.pool_status().waiters == 5);
    co_await held->close();
    while (finished < 5) co_await sleep_for(ex, 2ms);
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  });
}

TEST_CASE("async: an exhausted pool raises PoolTimeout", "[async][pool]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 1;
    opts.pool.max_overflow = 0;
    opts.pool.pool_timeout = 200ms;
    auto engine = create_async_engine(ex, test::database_url(), opts);
    auto held = co_await engine.connect();
    bool timed_out = false;
    try {
      (void)co_await engine.connect();
    } catch (const PoolTimeout& e) {
      timed_out = std::string(e.what()).find("size 1 overflow 0") != std::string::npos;
    }
    CHECK(timed_out);
    CHECK(engine.pool_status().waiters == 0);
    co_await held.close();
    auto again = co_await engine.connect();  // the pool still works
    CHECK((co_await again.execute(text("SELECT 1"))).scalar_one<int>() == 1);
  });
}

TEST_CASE("async: cancelling a wait for a connection leaks nothing", "[async][pool][cancel]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 1;
    opts.pool.max_overflow = 0;
    opts.pool.pool_timeout = 30s;
    auto engine = create_async_engine(ex, test::database_url(), opts);
    auto held = co_await engine.connect();
    for (int i = 0; i < 50; ++i) {
      asio::steady_timer t(ex, 1ms);
      auto r = co_await (engine.connect() || t.async_wait(use_awaitable));
      CHECK(r.index() == 1);  // the timer won; the waiter withdrew
    }
    CHECK(engine.pool_status().waiters == 0);
    // Hand the connection over at the very moment a waiter gives up: it must not be lost.
    asio::co_spawn(ex, [&]() -> awaitable<void> { co_await held.close(); }, asio::detached);
    asio::steady_timer t(ex, 0ms);
    (void)co_await (engine.connect() || t.async_wait(use_awaitable));
    auto c = co_await engine.connect();
    CHECK((co_await c.execute(text("SELECT 1"))).scalar_one<int>() == 1);
    co_await c.close();
    CHECK(engine.pool_status().checked_out == 0);
    CHECK(engine.pool_status().waiters == 0);
  });
}

TEST_CASE("async: statements cancelled mid-flight leave every connection clean", "[async][cancel]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 4;
    opts.pool.max_overflow = 0;
    auto engine = create_async_engine(ex, test::database_url(), opts);
    const int total = test::is_postgres() ? 1000 : 100;
    int cancelled = 0, finished = 0, errors = 0;
    for (int w = 0; w < 4; ++w) {
      asio::co_spawn(
          ex,
          [&]() -> awaitable<void> {
            try {
              for (int i = 0; i < total / 4; ++i) {
                auto conn = co_await engine.connect();
                asio::steady_timer t(ex, 5ms);
                auto r = co_await (conn.execute(text(slow_query(10'000))) || t.async_wait(use_awaitable));
                if (r.index() == 1) ++cancelled;
                co_await conn.rollback();
                co_await conn.close();
              }
            } catch (...) {
              ++errors;  // the test must end (and fail) rather than hang
            }
            ++finished;
          },
          asio::detached);
    }
    while (finished < 4) co_await sleep_for(ex, 10ms);
    CHECK(errors == 0);
    CHECK(cancelled == total);
    CHECK(engine.pool_status().checked_out == 0);
    // Every pooled connection answers at once: no half-read result, no "command in progress".
    std::vector<AsyncConnection> conns;
    for (int i = 0; i < 4; ++i) conns.push_back(co_await engine.connect());
    for (auto& c : conns) CHECK((co_await c.execute(text("SELECT 7"))).scalar_one<int>() == 7);
    for (auto& c : conns) co_await c.close();
  });
}

TEST_CASE("async: a second coroutine using a busy connection gets UsageError", "[async][misuse]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    auto conn = co_await engine.connect();
    bool refused = false, first_done = false;
    asio::co_spawn(
        ex,
        [&]() -> awaitable<void> {
          co_await conn.execute(text(slow_query(200)));
          first_done = true;
        },
        asio::detached);
    co_await sleep_for(ex, 20ms);
    try {
      co_await conn.execute(text("SELECT 1"));
    } catch (const UsageError& e) {
      refused = std::string(e.what()).find("one coroutine at a time") != std::string::npos;
    }
    CHECK(refused);
    while (!first_done) co_await sleep_for(ex, 10ms);
    co_await conn.close();
  });
}

TEST_CASE("async: a batch of 10,000 inserts is one all-or-nothing transaction", "[async][batch]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    auto conn = co_await engine.connect();
    const auto t = quote_identifier(conn.dialect(), test::unique_name("batch"));
    co_await conn.execute_script("CREATE TABLE " + t + " (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
    co_await conn.commit();
    const auto insert = text("INSERT INTO " + t + " (id, v) VALUES (:id, :v)");
    std::vector<Params> rows;
    for (int i = 1; i <= 10'000; ++i) rows.push_back({{"id", i}, {"v", i * 2}});
    auto results = co_await conn.execute_many(insert, rows);
    CHECK(results.size() == 10'000);
    CHECK(results.front().rowcount() == 1);
    co_await conn.commit();
    auto count = [&]() -> awaitable<std::int64_t> {
      auto r = co_await conn.execute(text("SELECT count(*) FROM " + t));
      co_await conn.rollback();
      co_return r.scalar_one<std::int64_t>();
    };
    CHECK(co_await count() == 10'000);

    // A second batch whose row 5,000 repeats a key: nothing of it may persist.
    std::vector<Params> bad;
    for (int i = 10'001; i <= 20'000; ++i) bad.push_back({{"id", i == 15'000 ? 1 : i}, {"v", 0}});
    bool refused = false;
    try {
      co_await conn.execute_many(insert, bad);
      co_await conn.commit();
    } catch (const IntegrityError&) {
      refused = true;
    }
    CHECK(refused);
    co_await conn.rollback();
    CHECK(co_await count() == 10'000);
    co_await conn.close();
  });
}

TEST_CASE("async: savepoints and abandoned transactions roll back", "[async][tx]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    auto conn = co_await engine.connect();
    const auto t = quote_identifier(conn.dialect(), test::unique_name("async_tx"));
    co_await conn.execute_script("CREATE TABLE " + t + " (id INTEGER PRIMARY KEY)");
    co_await conn.commit();
    const auto insert = text("INSERT INTO " + t + " VALUES (:id)");
    {
      auto tx = co_await conn.begin();
      co_await conn.execute(insert.bind("id", 1));
      {
        auto sp = co_await conn.begin_nested();
        co_await conn.execute(insert.bind("id", 2));
        co_await sp.rollback();
      }
      {
        auto sp = co_await conn.begin_nested();
        co_await conn.execute(insert.bind("id", 3));
        // dropped while active: rolled back before the next statement
      }
      co_await conn.execute(insert.bind("id", 4));
      co_await tx.commit();
    }
    auto ids = (co_await conn.execute(text("SELECT id FROM " + t + " ORDER BY id"))).scalars<int>();
    CHECK(ids == std::vector<int>{1, 4});
    co_await conn.close();
  });
}

TEST_CASE("async: statement cache on and off give identical results", "[async][cache]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    std::vector<std::int64_t> results[2];
    for (int k = 0; k < 2; ++k) {
      EngineOptions opts;
      opts.connect.statement_cache_size = k == 0 ? 0 : 64;
      auto engine = create_async_engine(ex, test::database_url(), opts);
      auto conn = co_await engine.connect();
      for (int i = 0; i < 50; ++i)
        results[k].push_back(
            (co_await conn.execute(text("SELECT :a * :b").bind("a", i).bind("b", i % 7))).scalar_one<std::int64_t>());
      co_await conn.close();
    }
    CHECK(results[0] == results[1]);
    CHECK(results[0][10] == 30);
  });
}

TEST_CASE("async: an io_context run by four threads serves 400 coroutines over one engine", "[async][threads]") {
  asio::io_context io;
  EngineOptions opts;
  opts.pool.pool_size = 8;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 60s;
  auto engine = create_async_engine(io.get_executor(), test::database_url(), opts);
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < 400; ++i) {
    // Each coroutine on its own strand, as a server would run one per request.
    asio::co_spawn(
        asio::make_strand(io),
        [&, i]() -> awaitable<void> {
          try {
            auto conn = co_await engine.connect();
            auto r = co_await conn.execute(text("SELECT :i").bind("i", i));
            if (r.scalar_one<int>() == i) ++ok;
            co_await conn.close();
          } catch (...) {
            ++failed;
          }
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { io.run(); });
  for (auto& t : threads) t.join();
  CHECK(ok == 400);
  CHECK(failed == 0);
  CHECK(engine.pool_status().checked_out == 0);
  CHECK(engine.pool_status().open <= 8);
}

namespace {

// A session change each backend undoes at check-in, and a query that reports whether it is still
// there. The probe itself changes nothing.
struct SessionProbe {
  std::string change, probe;
};

SessionProbe session_probe() {
  if (test::is_postgres())
    return {"SET application_name = 'dirty'",
            "SELECT CASE WHEN current_setting('application_name') = 'dirty' THEN 'dirty' ELSE 'clean' END"};
  if (test::is_mysql()) return {"SET @corm_probe = 'dirty'", "SELECT IF(@corm_probe IS NULL, 'clean', 'dirty')"};
  return {"PRAGMA cache_size = 1234",
          "SELECT CASE WHEN (SELECT cache_size FROM pragma_cache_size) = 1234 THEN 'dirty' ELSE 'clean' END"};
}

}  // namespace

// The check-in reset must run after the closing ROLLBACK, never beside it: on a connection driven
// by a worker thread (SQLite, MySQL) the ROLLBACK is queued on the worker, and a reset sent from
// the io thread at the same time interleaved two commands on one socket ("Got packets out of
// order", or a client waiting forever for a reply).
TEST_CASE("async: a connection that changed its session reaches the next user clean, however it was given back",
          "[async][pool][reset]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 1;
    opts.pool.max_overflow = 0;
    opts.pool.pool_timeout = 30s;
    auto engine = create_async_engine(ex, test::database_url(), opts);
    const SessionProbe p = session_probe();
    int clean = 0;
    const int rounds = 60;
    for (int i = 0; i < rounds; ++i) {
      {
        auto conn = co_await engine.connect();
        co_await conn.execute(text(p.change));  // autobegins: the session is inside a transaction
        switch (i % 3) {
          case 0:  // closed inside the transaction: ROLLBACK, then the reset
            co_await conn.close();
            break;
          case 1:  // committed, then closed
            co_await conn.commit();
            co_await conn.close();
            break;
          default:  // dropped inside the transaction: the destructor's path
            break;
        }
      }
      auto next = co_await engine.connect();
      auto r = co_await next.execute(text(p.probe));
      if (r.scalar_one<std::string>() == "clean") ++clean;
      co_await next.close();
    }
    CHECK(clean == rounds);
    CHECK(engine.pool_status().checked_out == 0);
  });
}
