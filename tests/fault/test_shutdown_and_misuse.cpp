// Cancellation, shutdown and misuse (faults 18-21): command timeouts on every backend, engine.dispose()
// with work in flight (async and sync fronts), the concurrent-use guards of AsyncConnection and
// AsyncSession driven from several threads without a strand, and PoolTimeout's counts.

// Not on MySQL: its long statements and backend counts use pg_sleep and pg_stat_activity (or SQLite's
// own); the same shutdown paths on MySQL are not written yet.
#if !defined(CORM_TEST_BACKEND_MYSQL)

#include "fault/fault_support.hpp"

#include <array>
#include <typeinfo>

using namespace corm;
using namespace corm::fault;
using boost::asio::experimental::awaitable_operators::operator&&;

namespace {

/// A statement that runs far longer than any bound here unless it is stopped: on SQLite a
/// recursive CTE counting to `limit`, on PostgreSQL pg_sleep.
std::string long_statement(std::int64_t limit = 1'000'000'000) {
  if (test::is_postgres()) return "SELECT pg_sleep(60)";
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + std::to_string(limit) +
         ") SELECT count(*) FROM c";
}

/// Runs `io` on `threads` threads until it has no work left.
void run_threads(asio::io_context& io, int threads) {
  io.restart();
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : extra) t.join();
}

/// What one coroutine ended with, recorded from whichever thread completed it.
struct Outcome {
  std::atomic<int> completions{0};
  std::mutex mu;
  std::string type;  // "" = success
  std::string what;

  auto handler() {
    return [this](std::exception_ptr e) {
      std::lock_guard lock(mu);
      ++completions;
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const UsageError& u) {
        type = "UsageError";
        what = u.what();
      } catch (const QueryCanceled& q) {
        type = "QueryCanceled";
        what = q.what();
      } catch (const std::exception& x) {
        type = typeid(x).name();
        what = x.what();
      }
    };
  }
};

// PoolTimeout's whole message as a regex: the counts, then the one holder (this file, `line`)
// held for some tenths of a second, outside a transaction.
std::string timeout_pattern(int pool_size, int checked_out, int waiting, int ms, int line) {
  return "QueuePool limit of size " + std::to_string(pool_size) + " overflow 0 reached: " + std::to_string(checked_out) +
         " connections checked out, " + std::to_string(waiting) + " waiting; no connection became free within " +
         std::to_string(ms) + " ms; held by: test_shutdown_and_misuse\\.cpp:" + std::to_string(line) +
         " for [0-9]+\\.[0-9] s\\. Return connections sooner \\(close sessions, keep transactions short\\) or "
         "raise pool_size / max_overflow / pool_timeout";
}

}  // namespace

TEST_CASE("fault 18: a command timeout stops a long statement with QueryCanceled and the connection stays usable",
          "[fault][timeout]") {
  FaultDb db;
  const std::string url = db.url();
  for (int threads : {1, 4}) {
    INFO(threads << " io thread(s)");
    Watchdog watchdog(60s, "fault 18");
    asio::io_context io;
    Outcome done;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          auto ex = co_await asio::this_coro::executor;
          {
            auto engine = create_async_engine(ex, url);
            // Outside any transaction (AUTOCOMMIT), then inside one (PostgreSQL aborts it: roll back).
            for (bool in_tx : {false, true}) {
              auto conn = co_await engine.connect();
              conn.set_command_timeout(200ms);
              if (!in_tx) conn.set_isolation_level(IsolationLevel::autocommit);
              if (in_tx) (void)co_await conn.execute(text("SELECT 1"));
              std::string what;
              try {
                (void)co_await conn.execute(text(long_statement()));
              } catch (const QueryCanceled& e) {
                what = e.what();
              }
              CHECK_THAT(what, Catch::Contains("ran longer than command_timeout (200 ms)"));
              if (in_tx) co_await conn.rollback();
              CHECK((co_await conn.execute(text("SELECT 7"))).scalar_one<int>() == 7);
              co_await conn.close();
            }
            CHECK(engine.pool_status().checked_out == 0);
          }
          {
            // The engine-wide limit, through a session's statement path.
            EngineOptions opts;
            opts.command_timeout = 200ms;
            auto engine = create_async_engine(ex, url, opts);
            auto conn = co_await engine.connect();
            std::string what;
            try {
              (void)co_await conn.exec_driver_sql(long_statement());
            } catch (const QueryCanceled& e) {
              what = e.what();
            }
            CHECK_THAT(what, Catch::Contains("ran longer than command_timeout (200 ms)"));
            co_await conn.rollback();
            CHECK((co_await conn.execute(text("SELECT 8"))).scalar_one<int>() == 8);
            co_await conn.close();
          }
        },
        done.handler());
    run_threads(io, threads);
    REQUIRE(done.completions == 1);
    CHECK(done.type == "");
    CHECK(done.what == "");
  }
  {
    // The sync front honours the same option.
    Watchdog watchdog(60s, "fault 18 sync");
    EngineOptions opts;
    opts.command_timeout = 200ms;
    Engine engine = create_engine(url, opts);
    Connection c = engine.connect();
    bool cancelled = false;
    try {
      (void)c.execute(text(long_statement()));
    } catch (const QueryCanceled&) {
      cancelled = true;
    }
    CHECK(cancelled);
    c.rollback();
    CHECK(c.execute(text("SELECT 9")).scalar_one<int>() == 9);
  }
}

TEST_CASE("fault 19a: engine.dispose() with statements in flight and coroutines waiting fails each waiter once, "
          "cancels the statements and leaves no connection",
          "[fault][dispose]") {
  FaultDb db;
  const std::string url = db.url();
  const auto app = test::unique_name("dispose");
  Watchdog watchdog(60s, "fault 19a");
  asio::io_context io;
  auto strand = asio::make_strand(io);
  auto opts = named(app);
  opts.pool.pool_size = 2;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 30s;
  auto engine = create_async_engine(io.get_executor(), url, opts);
  std::array<Outcome, 2> runners;
  std::array<Outcome, 4> waiters;
  Outcome disposer;
  int started = 0;  // on the strand
  for (auto& r : runners)
    asio::co_spawn(
        strand,
        [&]() -> awaitable<void> {
          auto conn = co_await engine.connect();
          ++started;
          (void)co_await conn.execute(text(long_statement()));
        },
        r.handler());
  for (auto& w : waiters)
    asio::co_spawn(
        strand, [&]() -> awaitable<void> { (void)co_await engine.connect(); }, w.handler());
  asio::co_spawn(
      strand,
      [&]() -> awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        // Dispose once both statements run (on the server, for PostgreSQL) and all four wait.
        while (started < 2 || engine.pool_status().waiters < 4 ||
               (test::is_postgres() && backends(app, "active") < 2))
          co_await sleep_for(ex, 10ms);
        engine.dispose();
      },
      disposer.handler());
  run_threads(io, 4);

  CHECK(disposer.type == "");
  for (auto& w : waiters) {
    CHECK(w.completions == 1);
    CHECK(w.type == "UsageError");
    CHECK_THAT(w.what, Catch::Contains("engine.dispose() was called while this coroutine waited for a connection"));
  }
  for (auto& r : runners) {
    CHECK(r.completions == 1);
    CHECK(r.type == "QueryCanceled");
  }
  const PoolStatus s = engine.pool_status();
  CHECK(s.open == 0);
  CHECK(s.checked_out == 0);
  CHECK(s.waiters == 0);
  if (test::is_postgres()) CHECK(eventually(2s, [&] { return backends(app) == 0; }));

  // The engine stays usable: a later checkout opens a new connection.
  Outcome after;
  asio::co_spawn(
      strand,
      [&]() -> awaitable<void> {
        auto conn = co_await engine.connect();
        CHECK((co_await conn.execute(text("SELECT 5"))).scalar_one<int>() == 5);
        co_await conn.close();
      },
      after.handler());
  run_threads(io, 1);
  CHECK(after.completions == 1);
  CHECK(after.type == "");
  engine.dispose();
  if (test::is_postgres()) CHECK(eventually(2s, [&] { return backends(app) == 0; }));
}

TEST_CASE("fault 19b: engine.dispose() and then destroying the io_context stops what ran on the server",
          "[fault][dispose]") {
  FaultDb db;
  const std::string url = db.url();
  const auto app = test::unique_name("dispose");
  Watchdog watchdog(60s, "fault 19b");
  {
    asio::io_context io;
    auto strand = asio::make_strand(io);
    auto opts = named(app);
    opts.pool.pool_size = 2;
    opts.pool.max_overflow = 0;
    opts.pool.pool_timeout = 30s;
    auto engine = create_async_engine(io.get_executor(), url, opts);
    int started = 0;
    for (int i = 0; i < 2; ++i)
      asio::co_spawn(
          strand,
          [&]() -> awaitable<void> {
            auto conn = co_await engine.connect();
            ++started;
            // Far beyond the watchdog on SQLite: only an interrupt lets the worker thread join.
            (void)co_await conn.execute(text(long_statement(10'000'000'000)));
          },
          asio::detached);
    for (int i = 0; i < 2; ++i)
      asio::co_spawn(
          strand, [&]() -> awaitable<void> { (void)co_await engine.connect(); }, asio::detached);
    asio::co_spawn(
        strand,
        [&]() -> awaitable<void> {
          auto ex = co_await asio::this_coro::executor;
          while (started < 2 || engine.pool_status().waiters < 2 ||
                 (test::is_postgres() && backends(app, "active") < 2))
            co_await sleep_for(ex, 10ms);
          engine.dispose();
          io.stop();  // the program lets go: nothing of the engine runs again on this io_context
        },
        asio::detached);
    run_threads(io, 4);
  }  // the io_context, the coroutines' frames and their connections are destroyed here
  if (test::is_postgres()) CHECK(eventually(2s, [&] { return backends(app) == 0; }));
}

TEST_CASE("fault 19c: the sync Engine's dispose() fails waiting threads and closes connections as they come back",
          "[fault][dispose]") {
  FaultDb db;
  const auto app = test::unique_name("sdispose");
  Watchdog watchdog(60s, "fault 19c");
  auto opts = named(app);
  opts.pool.pool_size = 1;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 30s;
  Engine engine = create_engine(db.url(), opts);
  std::optional<Connection> held(engine.connect());
  CHECK(held->execute(text("SELECT 1")).scalar_one<int>() == 1);
  std::string type, what;
  std::thread waiter([&] {
    try {
      Connection c = engine.connect();
    } catch (const UsageError& e) {
      type = "UsageError";
      what = e.what();
    } catch (const std::exception& e) {
      type = typeid(e).name();
      what = e.what();
    }
  });
  REQUIRE(eventually(10s, [&] { return engine.pool_status().waiters == 1; }));
  engine.dispose();
  waiter.join();
  CHECK(type == "UsageError");
  CHECK_THAT(what, Catch::Contains("engine.dispose() was called while this thread waited for a connection"));
  held.reset();  // returned after dispose(): closed, not pooled
  CHECK(engine.pool_status().open == 0);
  if (test::is_postgres()) CHECK(eventually(2s, [&] { return backends(app) == 0; }));
  Connection again = engine.connect();
  CHECK(again.execute(text("SELECT 2")).scalar_one<int>() == 2);
}

TEST_CASE("fault 20a: one AsyncConnection used from four threads without a strand: every overlap is UsageError",
          "[fault][misuse]") {
  FaultDb db;
  db.create<FItem>();
  const std::string url = db.url();
  Watchdog watchdog(120s, "fault 20a");
  asio::io_context io;
  auto engine = create_async_engine(io.get_executor(), url);
  std::optional<AsyncConnection> conn;
  asio::co_spawn(
      io, [&]() -> awaitable<void> { conn.emplace(co_await engine.connect()); }, asio::detached);
  run_threads(io, 1);
  REQUIRE(conn);

  constexpr int coroutines = 8, iterations = 150;
  std::atomic<int> ok{0}, refused{0}, wrong_rows{0};
  std::mutex mu;
  std::vector<std::string> other;  // anything but the guard's UsageError
  for (int k = 0; k < coroutines; ++k)
    asio::co_spawn(
        io,  // no strand: the coroutines run on any of the four threads at once
        [&, k]() -> awaitable<void> {
          for (int i = 0; i < iterations; ++i) {
            try {
              const std::int64_t v = k * 1000 + i;
              // Named, and no co_await inside a conditional expression: GCC 12 (docs/async.md).
              std::optional<Result> r;
              if (i % 2 == 0) {
                auto statement = text("SELECT :v").bind("v", v);
                r.emplace(co_await conn->execute(statement));
              } else {
                std::string sql = test::is_postgres() ? "SELECT $1::bigint" : "SELECT ?1";
                std::vector<Value> params;
                params.emplace_back(v);
                r.emplace(co_await conn->exec_driver_sql(std::move(sql), std::move(params)));
              }
              if (r->scalar_one<std::int64_t>() == v) ++ok;
              else ++wrong_rows;
            } catch (const UsageError& e) {
              if (std::string(e.what()).find("already running an operation for another coroutine") != std::string::npos) {
                ++refused;
              } else {
                std::lock_guard lock(mu);
                other.emplace_back(e.what());
              }
            } catch (const std::exception& e) {
              std::lock_guard lock(mu);
              other.emplace_back(std::string(typeid(e).name()) + ": " + e.what());
            }
          }
        },
        asio::detached);
  run_threads(io, 4);
  INFO("first other failure: " << (other.empty() ? std::string("none") : other.front()));
  CHECK(other.empty());
  CHECK(wrong_rows == 0);
  CHECK(ok + refused == coroutines * iterations);
  CHECK(ok > 0);
  CHECK(refused > 0);  // the coroutines did overlap

  // Still consistent: statements, a transaction, and the row it wrote.
  Outcome after;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        CHECK((co_await conn->execute(text("SELECT 42"))).scalar_one<int>() == 42);
        co_await conn->rollback();  // the statements above began a transaction (commit as you go)
        CHECK_FALSE(conn->in_transaction());
        auto tx = co_await conn->begin();
        (void)co_await conn->execute(text("INSERT INTO fault_items (id, name, n) VALUES (1, 'a', 1)"));
        co_await tx.commit();
        CHECK((co_await conn->execute(text("SELECT count(*) FROM fault_items"))).scalar_one<std::int64_t>() == 1);
        co_await conn->close();
      },
      after.handler());
  run_threads(io, 4);
  CHECK(after.completions == 1);
  CHECK(after.type == "");
  CHECK(after.what == "");
  CHECK(engine.pool_status().checked_out == 0);
}

TEST_CASE("fault 20b: one AsyncSession used from four threads without a strand: every overlap is UsageError",
          "[fault][misuse]") {
  FaultDb db;
  db.create<FItem>();
  db.exec("INSERT INTO fault_items (id, name, n) VALUES (1, 'a', 1), (2, 'b', 2)");
  const std::string url = db.url();
  Watchdog watchdog(120s, "fault 20b");
  asio::io_context io;
  auto engine = create_async_engine(io.get_executor(), url);
  AsyncSession session(engine);

  constexpr int coroutines = 8, iterations = 100;
  std::atomic<int> ok{0}, refused{0}, wrong_rows{0};
  std::mutex mu;
  std::vector<std::string> other;
  for (int k = 0; k < coroutines; ++k)
    asio::co_spawn(
        io,
        [&, k]() -> awaitable<void> {
          for (int i = 0; i < iterations; ++i) {
            try {
              if ((k + i) % 3 == 0) {
                auto items = co_await session.scalars(select<FItem>());
                if (items.size() == 2) ++ok;
                else ++wrong_rows;
              } else if ((k + i) % 3 == 1) {
                auto item = co_await session.get<FItem>(std::int64_t{2});
                if (item && item->n == 2) ++ok;
                else ++wrong_rows;
              } else {
                Result r = co_await session.execute(text("SELECT count(*) FROM fault_items"));
                if (r.scalar_one<std::int64_t>() == 2) ++ok;
                else ++wrong_rows;
              }
            } catch (const UsageError& e) {
              if (std::string(e.what()).find("AsyncSession used by two coroutines at once") != std::string::npos) {
                ++refused;
              } else {
                std::lock_guard lock(mu);
                other.emplace_back(e.what());
              }
            } catch (const std::exception& e) {
              std::lock_guard lock(mu);
              other.emplace_back(std::string(typeid(e).name()) + ": " + e.what());
            }
          }
        },
        asio::detached);
  run_threads(io, 4);
  INFO("first other failure: " << (other.empty() ? std::string("none") : other.front()));
  CHECK(other.empty());
  CHECK(wrong_rows == 0);
  CHECK(ok + refused == coroutines * iterations);
  CHECK(ok > 0);
  CHECK(refused > 0);

  Outcome after;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        auto item = std::make_shared<FItem>();
        item->id = 3;
        item->name = "c";
        item->n = 3;
        session.add(item);
        co_await session.commit();
        auto items = co_await session.scalars(select<FItem>());
        CHECK(items.size() == 3);
        co_await session.close();
      },
      after.handler());
  run_threads(io, 4);
  CHECK(after.completions == 1);
  CHECK(after.type == "");
  CHECK(after.what == "");
  CHECK(db.scalar("SELECT count(*) FROM fault_items") == 3);
}

TEST_CASE("fault 20d: two coroutines sharing one AsyncSession under &&: the first exception is the UsageError",
          "[fault][misuse]") {
  FaultDb db;
  db.create<FItem>();
  const std::string url = db.url();
  Watchdog watchdog(120s, "fault 20d");
  asio::io_context io;
  auto engine = create_async_engine(io.get_executor(), url);
  AsyncSession session(engine);
  std::exception_ptr first;
  std::size_t items_after = 99;
  Outcome done;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        // The first holds the session through a long statement; the second is refused, and &&
        // then cancels the first, whose exception Asio reports first.
        auto slow = [&]() -> awaitable<void> { (void)co_await session.execute(text(long_statement())); };
        auto quick = [&]() -> awaitable<void> { (void)co_await session.scalars(select<FItem>()); };
        try {
          co_await (slow() && quick());
        } catch (const asio::multiple_exceptions& m) {
          first = m.first_exception();
        } catch (...) {
          first = std::current_exception();
        }
        co_await session.rollback();
        items_after = (co_await session.scalars(select<FItem>())).size();
        co_await session.close();
      },
      done.handler());
  io.run();
  CHECK(done.completions == 1);
  CHECK(done.what == "");
  Outcome reported;
  reported.handler()(first);
  CHECK(reported.type == "UsageError");
  CHECK(reported.what ==
        "AsyncSession used by two coroutines at once (another operation of this session is still running); give "
        "each coroutine its own session");
  CHECK(items_after == 0);  // the session works afterwards
}

TEST_CASE("fault 20c: invalidate() while another coroutine's statement runs: the statement completes, then the "
          "connection is discarded",
          "[fault][misuse]") {
  FaultDb db;
  run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions o;
    o.pool.pool_size = 1;
    o.pool.max_overflow = 0;
    auto engine = create_async_engine(ex, db.url(), o);
    auto conn = co_await engine.connect();
    const std::string sql = test::is_postgres() ? "SELECT 4 FROM pg_sleep(0.5)"
                                                : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                                                  "WHERE x < 20000000) SELECT 4 + 0 * count(*) FROM c";
    auto run = [&]() -> awaitable<int> { co_return (co_await conn.execute(text(sql))).scalar_one<int>(); };
    auto poke = [&]() -> awaitable<void> {
      co_await sleep_for(ex, 100ms);
      conn.invalidate();  // the statement is still running
    };
    const int v = co_await (run() && poke());
    CHECK(v == 4);
    CHECK(engine.pool_status().open == 0);  // discarded, not pooled
    co_await conn.rollback();                // the invalidated transaction
    CHECK((co_await conn.execute(text("SELECT 5"))).scalar_one<int>() == 5);
    CHECK(engine.connections_opened() == 2);
    co_await conn.close();
  });
}

TEST_CASE("fault 21: PoolTimeout counts the caller among the waiters (async and sync pools)", "[fault][pool]") {
  FaultDb db;
  EngineOptions opts;
  opts.pool.pool_size = 1;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 200ms;
  SECTION("async") {
    run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
      auto engine = create_async_engine(ex, db.url(), opts);
      const int line = __LINE__ + 1;
      auto held = co_await engine.connect();
      std::string what;
      try {
        (void)co_await engine.connect();
      } catch (const PoolTimeout& e) {
        what = e.what();
      }
      CHECK_THAT(what, Catch::Matches(timeout_pattern(1, 1, 1, 200, line)));
      CHECK(engine.pool_status().waiters == 0);
      co_await held.close();
    });
  }
  SECTION("sync") {
    Watchdog watchdog(60s, "fault 21 sync");
    Engine engine = create_engine(db.url(), opts);
    const int line = __LINE__ + 1;
    Connection held = engine.connect();
    std::string what;
    try {
      Connection c = engine.connect();
    } catch (const PoolTimeout& e) {
      what = e.what();
    }
    CHECK_THAT(what, Catch::Matches(timeout_pattern(1, 1, 1, 200, line)));
    CHECK(engine.pool_status().waiters == 0);
  }
}

#endif  // !CORM_TEST_BACKEND_MYSQL
