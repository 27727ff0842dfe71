// Reliability faults 1-5: killed backends, a server that goes down and comes back, a black-holed
// network, cancellation of running statements (statement, fetch, prepare, batch, flush) and
// cancellation inside a transaction holding row locks.

// Not on MySQL: these cases kill and time PostgreSQL backends (pg_terminate_backend, pg_stat_activity,
// the fault proxy in front of a PostgreSQL cluster); a MariaDB session killed mid-transaction is in
// tests/mysql.
#if !defined(CORM_TEST_BACKEND_MYSQL)

#include "fault/fault_support.hpp"
#include "support/fault_proxy.hpp"
#include "support/sanitizer.hpp"

using namespace corm;
using namespace corm::fault;
using test::FaultProxy;

namespace {

// A statement that takes about `ms` milliseconds on either backend.
std::string slow_sql(int ms) {
  if (test::is_postgres()) return "SELECT pg_sleep(" + std::to_string(ms / 1000.0) + ")";
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " + std::to_string(ms * 20000) +
         ") SELECT count(*) FROM c";
}

[[maybe_unused]] void terminate_pid(int pid) {
  auto admin = create_engine(test::pg_url());
  auto c = admin.connect();
  CHECK(c.execute(text("SELECT pg_terminate_backend(:pid)").bind("pid", pid)).scalar_one<bool>());
}

}  // namespace

#if defined(CORM_TEST_BACKEND_POSTGRES)

// --- case 1 ----------------------------------------------------------------------------------

TEST_CASE("fault 1a: a backend killed mid-query fails the statement within 1 s and is discarded",
          "[fault][kill]") {
  const auto app = test::unique_name("kill_query");
  run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
    auto opts = named(app);
    opts.pool.pool_size = 2;
    opts.pool.max_overflow = 0;
    auto engine = create_async_engine(ex, test::pg_url(), opts);
    auto conn = co_await engine.connect();
    const int pid = conn.backend_pid();
    std::atomic<std::int64_t> killed_at{0};
    std::thread killer([&] {
      eventually(10s, [&] { return backends(app, "active") == 1; });
      terminate_pid(pid);
      killed_at = Clock::now().time_since_epoch().count();
    });
    std::string error;
    try {
      co_await conn.execute(text("SELECT pg_sleep(30)"));
      error = "none";
    } catch (const ConnectionLost& e) {
      error = "ConnectionLost";
      CHECK_THAT(std::string(e.what()), Catch::Contains("lost") || Catch::Contains("terminat"));
    } catch (const std::exception& e) {
      error = std::string("other: ") + e.what();
    }
    const auto failed_at = Clock::now().time_since_epoch().count();
    killer.join();
    CHECK(error == "ConnectionLost");
    const double took = static_cast<double>(failed_at - killed_at.load()) / 1e9;
    INFO("error " << took << " s after pg_terminate_backend");
    CHECK(took < 1.0);
    co_await conn.rollback();
    co_await conn.close();
    const auto st = engine.pool_status();
    CHECK(st.checked_out == 0);
    CHECK(st.open == 0);  // discarded, not pooled
    auto next = co_await engine.connect();
    CHECK((co_await next.execute(text("SELECT 41 + 1"))).scalar_one<int>() == 42);
    CHECK(next.backend_pid() != pid);
    co_await next.close();
  });
}

TEST_CASE("fault 1b: a backend killed mid-transaction: same error until rollback(), insert absent, next checkout works",
          "[fault][kill]") {
  FaultDb db;
  db.exec("CREATE TABLE fault_kill (id INTEGER PRIMARY KEY)");
  const auto app = test::unique_name("kill_tx");
  for (bool during_statement : {false, true}) {
    run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
      auto opts = named(app);
      opts.pool.pool_size = 2;
      opts.pool.max_overflow = 0;
      auto engine = create_async_engine(ex, db.url(), opts);
      auto conn = co_await engine.connect();
      const int pid = conn.backend_pid();
      co_await conn.execute(text("INSERT INTO fault_kill VALUES (:id)").bind("id", 1));
      CHECK(conn.in_transaction());
      std::atomic<std::int64_t> killed_at{0};
      std::thread killer([&] {
        if (during_statement) eventually(10s, [&] { return backends(app, "active") == 1; });
        terminate_pid(pid);
        killed_at = Clock::now().time_since_epoch().count();
      });
      if (!during_statement) {
        killer.join();
        eventually(5s, [&] { return backends(app) == 0; });
      }
      std::string first;
      try {
        co_await conn.execute(text(during_statement ? "SELECT pg_sleep(30)" : "SELECT 1"));
      } catch (const ConnectionLost&) {
        first = "ConnectionLost";
      } catch (const std::exception& e) {
        first = e.what();
      }
      const auto failed_at = Clock::now().time_since_epoch().count();
      if (during_statement) killer.join();
      CHECK(first == "ConnectionLost");
      CHECK(static_cast<double>(failed_at - killed_at.load()) / 1e9 < 1.0);
      CHECK(engine.pool_status().checked_out == 0);  // discarded at once
      // Every operation raises the same error until rollback().
      int refused = 0;
      for (int i = 0; i < 3; ++i) {
        try {
          co_await conn.execute(text("SELECT 1"));
        } catch (const ConnectionLost&) {
          ++refused;
        }
      }
      try {
        std::vector<std::vector<Value>> rows(3, std::vector<Value>{Value(std::int64_t{2})});
        co_await conn.execute_many("INSERT INTO fault_kill VALUES ($1)", std::move(rows));
      } catch (const ConnectionLost&) {
        ++refused;
      }
      try {
        co_await conn.commit();
      } catch (const ConnectionLost&) {
        ++refused;
      }
      CHECK(refused == 5);
      co_await conn.rollback();
      CHECK_FALSE(conn.in_transaction());
      // The same handle works again on a fresh connection.
      CHECK((co_await conn.execute(text("SELECT count(*) FROM fault_kill"))).scalar_one<std::int64_t>() == 0);
      CHECK(conn.backend_pid() != pid);
      co_await conn.close();
      auto next = co_await engine.connect();
      CHECK((co_await next.execute(text("SELECT 1"))).scalar_one<int>() == 1);
      co_await next.close();
    });
    CHECK(db.scalar("SELECT count(*) FROM fault_kill") == 0);  // the insert is absent
  }
}

// --- case 2 ----------------------------------------------------------------------------------

TEST_CASE("fault 2: server down then back: fast ConnectError, flat fds and memory, recovery without reset",
          "[fault][restart]") {
  Cluster pg;
  const auto app = test::unique_name("down");
  run_bounded(150s, [&](asio::any_io_executor ex) -> awaitable<void> {
    auto opts = named(app);
    opts.pool.pool_size = 4;
    opts.pool.max_overflow = 0;
    opts.pool.pool_timeout = 1s;
    opts.pool.pool_pre_ping = true;
    opts.connect.connect_timeout = 1s;
    const auto bound = opts.pool.pool_timeout + opts.connect.connect_timeout + 500ms;
    auto engine = create_async_engine(ex, pg.url(), opts);
    {
      std::vector<AsyncConnection> warm;
      for (int i = 0; i < 4; ++i) warm.push_back(co_await engine.connect());
      for (auto& c : warm) co_await c.execute(text("SELECT 1"));
      for (auto& c : warm) co_await c.close();
    }
    pg.stop("immediate");

    int connect_errors = 0, pool_timeouts = 0, successes = 0, others = 0;
    std::vector<std::string> others_what;
    double slowest = 0;
    bool named_failure = true;
    std::size_t fd_after_first = 0, rss_after_first = 0;
    const int waves = 25, per_wave = 16;
    for (int w = 0; w < waves; ++w) {
      int finished = 0;
      for (int i = 0; i < per_wave; ++i) {
        asio::co_spawn(
            ex,
            [&]() -> awaitable<void> {
              const auto t0 = Clock::now();
              try {
                auto c = co_await engine.connect();
                co_await c.execute(text("SELECT 1"));
                ++successes;
              } catch (const PoolTimeout&) {
                ++pool_timeouts;
              } catch (const ConnectError& e) {
                ++connect_errors;
                const std::string m = e.what();
                named_failure = named_failure && m.find("refused") != std::string::npos;
              } catch (const std::exception& e) {
                ++others;
                others_what.emplace_back(e.what());
              }
              slowest = std::max(slowest, seconds_since(t0));
              ++finished;
            },
            asio::detached);
      }
      while (finished < per_wave) co_await sleep_for(ex, 2ms);
      if (w == 1) {
        fd_after_first = fd_count();
        rss_after_first = rss_bytes();
      }
    }
    INFO("slowest failing checkout " << slowest << " s; bound " << bound.count() << " ms");
    for (auto& m : others_what) UNSCOPED_INFO("unexpected: " << m);
    CHECK(successes == 0);
    CHECK(others == 0);
    CHECK(pool_timeouts == 0);  // the pool had room: the failure is the server's, and says so
    CHECK(connect_errors == waves * per_wave);
    CHECK(named_failure);
    CHECK(slowest < std::chrono::duration<double>(bound).count());
    CHECK(fd_count() <= fd_after_first);
    if (!test::memory_is_instrumented) CHECK(rss_bytes() < rss_after_first + (1u << 20));
    const auto st = engine.pool_status();
    CHECK(st.open == 0);
    CHECK(st.checked_out == 0);
    CHECK(st.waiters == 0);

    pg.start();
    const auto restarted = Clock::now();
    int ok = 0, finished = 0;
    for (int i = 0; i < 16; ++i) {
      asio::co_spawn(
          ex,
          [&]() -> awaitable<void> {
            for (;;) {  // no reset call: plain checkouts until they work
              try {
                auto c = co_await engine.connect();
                if ((co_await c.execute(text("SELECT 1"))).scalar_one<int>() == 1) ++ok;
                break;
              } catch (const Error&) {
              }
              if (seconds_since(restarted) > 10) break;
              co_await sleep_for(ex, 20ms);
            }
            ++finished;
          },
          asio::detached);
    }
    while (finished < 16) co_await sleep_for(ex, 5ms);
    CHECK(ok == 16);
    CHECK(seconds_since(restarted) < 3.0);
  });
}

// --- case 3 ----------------------------------------------------------------------------------

TEST_CASE("fault 3: a black-holed network mid-query: every coroutine finishes in bounded time, no dead connection pooled",
          "[fault][proxy]") {
  auto proxy = FaultProxy::for_url(test::pg_url());
  const auto app = test::unique_name("blackhole");
  run_bounded(120s, [&](asio::any_io_executor ex) -> awaitable<void> {
    auto opts = named(app);
    opts.pool.pool_size = 4;
    opts.pool.max_overflow = 0;
    opts.pool.pool_timeout = 2s;
    opts.command_timeout = 500ms;
    opts.connect.connect_timeout = 1s;
    auto engine = create_async_engine(ex, proxy->url_through(test::pg_url()), opts);
    {
      std::vector<AsyncConnection> warm;
      for (int i = 0; i < 4; ++i) warm.push_back(co_await engine.connect());
      for (auto& c : warm) co_await c.execute(text("SELECT 1"));
      for (auto& c : warm) co_await c.close();
    }
    const int coroutines = 12, waves = coroutines / 4;
    const double bound =
        std::chrono::duration<double>(opts.pool.pool_timeout + opts.command_timeout).count() * waves * 1.2;
    int finished = 0, ok = 0;
    std::map<std::string, int> errors;
    double slowest = 0;
    const auto t0 = Clock::now();
    proxy->set_mode(FaultProxy::Mode::blackhole);
    for (int i = 0; i < coroutines; ++i) {
      asio::co_spawn(
          ex,
          [&]() -> awaitable<void> {
            try {
              auto c = co_await engine.connect();
              co_await c.execute(text("SELECT pg_sleep(0.05)"));
              co_await c.close();
              ++ok;
            } catch (const PoolTimeout&) {
              ++errors["PoolTimeout"];
            } catch (const QueryCanceled&) {
              ++errors["QueryCanceled"];
            } catch (const ConnectionLost&) {
              ++errors["ConnectionLost"];
            } catch (const ConnectError&) {
              ++errors["ConnectError"];
            } catch (const std::exception& e) {
              ++errors[std::string("other: ") + e.what()];
            }
            slowest = std::max(slowest, seconds_since(t0));
            ++finished;
          },
          asio::detached);
    }
    while (finished < coroutines && seconds_since(t0) < bound * 3) co_await sleep_for(ex, 10ms);
    for (auto& [k, v] : errors) UNSCOPED_INFO(k << ": " << v);
    INFO("slowest coroutine " << slowest << " s; bound " << bound << " s");
    REQUIRE(finished == coroutines);
    CHECK(ok == 0);
    CHECK(slowest < bound);
    CHECK(errors.count("other") == 0);
    auto st = engine.pool_status();
    CHECK(st.idle == 0);  // black-holed connections never went back to the pool
    CHECK(st.checked_out == 0);
    proxy->set_mode(FaultProxy::Mode::pass);
    // Whatever the pool holds now answers at once: nothing black-holed was kept.
    std::vector<AsyncConnection> conns;
    for (int i = 0; i < 4; ++i) conns.push_back(co_await engine.connect());
    for (auto& c : conns) CHECK((co_await c.execute(text("SELECT 5"))).scalar_one<int>() == 5);
    for (auto& c : conns) co_await c.close();
  });
}

#endif  // CORM_TEST_BACKEND_POSTGRES

// --- case 4 ----------------------------------------------------------------------------------

namespace {

// Runs `op` on a fresh connection and cancels it after 150 ms; checks the cancel completed
// within 1 s, the server stopped the statement, nothing stays checked out, the next checkout
// works.
using CancelOp = std::function<awaitable<void>(AsyncEngine&, AsyncConnection&)>;

void check_cancel(const std::string& url, const std::string& what, const CancelOp& op) {
  const auto app = test::unique_name("cancel");
  run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
    auto opts = named(app);
    opts.pool.pool_size = 2;
    opts.pool.max_overflow = 0;
    auto engine = create_async_engine(ex, url, opts);
    {
      auto conn = co_await engine.connect();
      asio::steady_timer timer(ex, 150ms);
      const auto t0 = Clock::now();
      auto running = op(engine, conn);
      auto r = co_await (std::move(running) || timer.async_wait(use_awaitable));
      const double took = seconds_since(t0);
      INFO(what << ": cancelled after " << took << " s");
      CHECK(r.index() == 1);
      CHECK(took < 1.15);  // 150 ms until the cancel + at most 1 s to complete it
      if (test::is_postgres()) CHECK(backends(app, "active") == 0);  // the server really stopped it
      co_await conn.rollback();
      co_await conn.close();
    }
    // A handle dropped mid-transaction (the cancelled flush's session) is returned by a detached
    // rollback: give it a moment, bounded.
    for (int i = 0; i < 100 && engine.pool_status().checked_out != 0; ++i) co_await sleep_for(ex, 10ms);
    CHECK(engine.pool_status().checked_out == 0);
    auto next = co_await engine.connect();
    CHECK((co_await next.execute(text("SELECT 3"))).scalar_one<int>() == 3);
    co_await next.close();
    CHECK(engine.pool_status().checked_out == 0);
  });
}

}  // namespace

TEST_CASE("fault 4: cancelling a running statement, fetch, prepare, batch and flush completes within 1 s",
          "[fault][cancel]") {
  FaultDb db;
  db.create<FItem>();
  // A flush that blocks on the server: a trigger that sleeps (PostgreSQL) or grinds (SQLite).
  if (test::is_postgres()) {
    db.exec("CREATE FUNCTION fault_sleepy() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(20); RETURN NEW; END $$");
    db.exec("CREATE TRIGGER fault_items_sleepy BEFORE INSERT ON fault_items FOR EACH ROW EXECUTE FUNCTION fault_sleepy()");
  } else {
    db.exec("CREATE TRIGGER fault_items_sleepy BEFORE INSERT ON fault_items BEGIN SELECT count(*) FROM (" +
            slow_sql(20'000) + "); END");
  }
  const std::string url = db.url();

  SECTION("statement") {
    check_cancel(url, "statement", [](AsyncEngine&, AsyncConnection& c) -> awaitable<void> {
      co_await c.execute(text(slow_sql(20'000)));
    });
  }
  SECTION("fetch: rows already streaming when the cancel comes") {
    const std::string sql =
        test::is_postgres()
            ? "SELECT g, pg_sleep(CASE WHEN g = 500 THEN 20 ELSE 0 END) FROM generate_series(1, 1000) g"
            : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000000) SELECT x FROM c "
              "WHERE x % 100000000 = 0";
    check_cancel(url, "fetch", [sql](AsyncEngine&, AsyncConnection& c) -> awaitable<void> {
      auto r = co_await c.execute(text(sql));
      (void)r;
    });
  }
  SECTION("prepare: a parameterised statement through the statement cache") {
    check_cancel(url, "prepare", [](AsyncEngine&, AsyncConnection& c) -> awaitable<void> {
      if (test::is_postgres()) {
        co_await c.execute(text("SELECT pg_sleep(:s)").bind("s", 20.0));
      } else {
        co_await c.execute(text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n) "
                                "SELECT count(*) FROM c")
                               .bind("n", std::int64_t{400'000'000}));
      }
    });
  }
  SECTION("batch") {
    check_cancel(url, "batch", [](AsyncEngine&, AsyncConnection& c) -> awaitable<void> {
      std::vector<std::vector<Value>> rows;
      for (std::int64_t i = 1; i <= 5; ++i) rows.push_back({Value(i), Value(std::string("b")), Value(i)});
      co_await c.execute_many(test::is_postgres() ? "INSERT INTO fault_items (id, name, n) VALUES ($1, $2, $3)"
                                                  : "INSERT INTO fault_items (id, name, n) VALUES (?1, ?2, ?3)",
                              std::move(rows));
    });
  }
  SECTION("flush") {
    check_cancel(url, "flush", [](AsyncEngine& e, AsyncConnection&) -> awaitable<void> {
      AsyncSession s(e);
      auto item = std::make_shared<FItem>();
      item->id = 1;
      item->name = "x";
      s.add(item);
      co_await s.flush();
      co_await s.close();
    });
  }
  CHECK(db.scalar("SELECT count(*) FROM fault_items") == 0);
}

// --- case 5 ----------------------------------------------------------------------------------

#if defined(CORM_TEST_BACKEND_POSTGRES)

namespace {

// A unit of work that takes a row lock and then runs long.
awaitable<void> hold_lock_then_sleep(AsyncEngine engine, bool* locked) {
  AsyncSession s(engine);
  auto tx = co_await s.begin();
  auto stmt = select<FCounter>().where(col(&FCounter::id) == std::int64_t{1}).with_for_update();
  auto rows = co_await s.scalars(std::move(stmt));
  *locked = rows.size() == 1;
  co_await s.execute(text("SELECT pg_sleep(20)"));
  co_await tx.commit();
}

}  // namespace

TEST_CASE("fault 5: cancelling a transaction that holds FOR UPDATE frees the lock within 1 s, no idle-in-transaction left",
          "[fault][cancel][locks]") {
  FaultDb db;
  seed_counters(db, 1);
  const auto app = test::unique_name("lockcancel");
  run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
    auto opts = named(app);
    opts.pool.pool_size = 4;
    opts.pool.max_overflow = 0;
    auto engine = create_async_engine(ex, db.url(), opts);
    bool locked = false;
    asio::steady_timer timer(ex, 300ms);
    auto work = hold_lock_then_sleep(engine, &locked);
    auto r = co_await (std::move(work) || timer.async_wait(use_awaitable));
    const auto cancelled_at = Clock::now();
    CHECK(r.index() == 1);
    CHECK(locked);
    // Another coroutine takes the lock with NOWAIT.
    bool got = false;
    std::string last_error;
    while (!got && seconds_since(cancelled_at) < 3) {
      auto c = co_await engine.connect();
      try {
        auto rows = co_await c.execute(text("SELECT value FROM fault_counters WHERE id = 1 FOR UPDATE NOWAIT"));
        got = rows.scalars<std::int64_t>().size() == 1;
      } catch (const Error& e) {
        last_error = e.what();
      }
      co_await c.rollback();
      co_await c.close();
      if (!got) co_await sleep_for(ex, 20ms);
    }
    INFO("last NOWAIT error: " << last_error);
    CHECK(got);
    CHECK(seconds_since(cancelled_at) < 1.0);
    CHECK(idle_in_transaction(app) == 0);
    CHECK(pg_count("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                   "WHERE a.application_name = :app AND l.locktype = 'transactionid'",
                   app) == 0);
    CHECK(engine.pool_status().checked_out == 0);
  });
}

#endif  // CORM_TEST_BACKEND_POSTGRES

#endif  // !CORM_TEST_BACKEND_MYSQL
