#pragma once
// The reliability suite's transaction and concurrency cases (6, 7, 8, 10) as functions of a database URL
// and engine options, so the same code runs directly against each backend and, for case 17,
// through PgBouncer in transaction mode with the statement cache off.

#include <map>
#include <random>

#include <boost/asio/strand.hpp>

#include "fault/fault_support.hpp"

namespace corm::fault {

// --- case 6: cancel while waiting for a connection --------------------------------------------

/// Holders and waiters race on a pool of 2 from an io_context run by 4 threads; waiters give up
/// after 0-2 ms, so connections are often handed over at the instant of cancellation. Nothing
/// may leak: afterwards no waiter, nothing checked out, and the full capacity checks out again.
inline void cancel_waiters_race(const std::string& url, EngineOptions opts) {
  Watchdog dog(120s, "cancel_waiters_race");
  opts.pool.pool_size = 2;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 10s;
  asio::io_context io;
  auto engine = create_async_engine(io.get_executor(), url, opts);
  std::atomic<int> got{0}, gave_up{0}, errors{0};
  std::mutex mu;
  std::vector<std::string> messages;
  const int workers = 16, rounds = 150;
  for (int w = 0; w < workers; ++w) {
    // Each coroutine on its own strand: Asio's cancellation (the `||` below) is not thread-safe
    // across threads without one. The pool itself is shared by all of them.
    asio::co_spawn(
        asio::make_strand(io),
        [&, w]() -> awaitable<void> {
          std::mt19937 rng(static_cast<unsigned>(w * 7919 + 1));
          std::uniform_int_distribution<int> us(0, 2000);
          auto ex = co_await asio::this_coro::executor;
          for (int i = 0; i < rounds; ++i) {
            try {
              asio::steady_timer t(ex, std::chrono::microseconds(us(rng)));
              auto r = co_await (engine.connect() || t.async_wait(use_awaitable));
              if (r.index() == 0) {
                ++got;
                auto c = std::move(std::get<0>(r));
                if (i % 3 == 0) co_await c.execute(text("SELECT 1"));
                asio::steady_timer hold(ex, std::chrono::microseconds(us(rng) / 4));
                co_await hold.async_wait(use_awaitable);
                if (i % 2 == 0) co_await c.close();  // otherwise returned by the destructor
              } else {
                ++gave_up;
              }
            } catch (const std::exception& e) {
              ++errors;
              std::lock_guard lock(mu);
              messages.emplace_back(e.what());
            }
          }
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run(); });
  for (auto& t : threads) t.join();
  for (auto& m : messages) UNSCOPED_INFO("error: " << m);
  CHECK(errors == 0);
  CHECK(got > 0);
  CHECK(gave_up > 0);
  auto st = engine.pool_status();
  CHECK(st.waiters == 0);
  CHECK(st.checked_out == 0);
  CHECK(st.open <= 2);
  // The full capacity is still there (a leaked slot would make the second checkout wait).
  io.restart();
  bool both = false;
  asio::co_spawn(
      asio::make_strand(io),
      [&]() -> awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer t(ex, 3s);
        auto two = [&]() -> awaitable<int> {
          auto a = co_await engine.connect();
          auto b = co_await engine.connect();
          int s = (co_await a.execute(text("SELECT 1"))).scalar_one<int>() +
                  (co_await b.execute(text("SELECT 1"))).scalar_one<int>();
          co_await a.close();
          co_await b.close();
          co_return s;
        };
        auto r = co_await (two() || t.async_wait(use_awaitable));
        both = r.index() == 0 && std::get<0>(r) == 2;
      },
      asio::detached);
  test::run_io(io);
  CHECK(both);
  st = engine.pool_status();
  CHECK(st.waiters == 0);
  CHECK(st.checked_out == 0);
}

// --- case 7: an exact counter -------------------------------------------------------------------

enum class CounterMode {
  locked_fresh_session,      ///< with_for_update, a new session per transaction
  locked_identity_map,       ///< with_for_update, one session per coroutine: the row is already in its map
  unlocked_control,          ///< no lock: lost updates expected (the control run)
};

struct CounterOutcome {
  std::int64_t final_value = 0;
  int committed = 0;
  int failed = 0;
  std::vector<std::string> errors;
};

inline awaitable<void> counter_worker(AsyncEngine engine, CounterMode mode, int increments, CounterOutcome* out) {
  std::optional<AsyncSession> long_lived;
  if (mode == CounterMode::locked_identity_map) {
    long_lived.emplace(engine);
    auto warm = co_await long_lived->get<FCounter>(std::int64_t{1});  // now in the identity map
    (void)warm;
    co_await long_lived->commit();
  }
  for (int i = 0; i < increments; ++i) {
    std::optional<AsyncSession> fresh;
    AsyncSession* s = long_lived ? &*long_lived : &fresh.emplace(engine);
    std::exception_ptr error;
    try {
      auto tx = co_await s->begin();
      auto stmt = select<FCounter>().where(col(&FCounter::id) == std::int64_t{1});
      if (mode != CounterMode::unlocked_control) stmt = std::move(stmt).with_for_update();
      auto rows = co_await s->scalars(std::move(stmt));
      if (mode == CounterMode::unlocked_control) {
        // Widen the read-modify-write window the way real work would.
        auto ex = co_await asio::this_coro::executor;
        co_await sleep_for(ex, 1ms);
      }
      rows.at(0)->value += 1;
      co_await tx.commit();
      ++out->committed;
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      ++out->failed;
      if (out->errors.size() < 5) out->errors.push_back(describe(error));
      try {
        co_await s->rollback();
      } catch (...) {
      }
    }
    if (fresh) co_await fresh->close();
  }
  if (long_lived) co_await long_lived->close();
}

inline CounterOutcome run_counter(const std::string& url, EngineOptions opts, CounterMode mode, int coroutines,
                                  int increments) {
  Watchdog dog(240s, "run_counter");
  opts.pool.pool_size = 8;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 60s;
  asio::io_context io;
  auto engine = create_async_engine(io.get_executor(), url, opts);
  CounterOutcome out;
  int finished = 0;
  auto strand = asio::make_strand(io);  // the workers' bookkeeping; the engine runs on every thread
  for (int w = 0; w < coroutines; ++w)
    asio::co_spawn(strand, counter_worker(engine, mode, increments, &out), [&](std::exception_ptr e) {
      ++finished;
      if (e) out.errors.push_back("worker died: " + describe(e));
    });
  test::run_io(io);
  CHECK(finished == coroutines);
  Engine check = create_engine(url, opts);
  Connection c = check.connect();
  out.final_value = c.execute(text("SELECT value FROM fault_counters WHERE id = 1")).scalar_one<std::int64_t>();
  c.rollback();
  c.execute(text("UPDATE fault_counters SET value = 0 WHERE id = 1"));
  c.commit();
  return out;
}

inline void exact_counter(const std::string& url, EngineOptions opts, int coroutines = 64, int increments = 100) {
  const std::int64_t expected = std::int64_t{coroutines} * increments;
  for (auto mode : {CounterMode::locked_fresh_session, CounterMode::locked_identity_map}) {
    auto out = run_counter(url, opts, mode, coroutines, increments);
    INFO((mode == CounterMode::locked_fresh_session ? "fresh sessions" : "row already in the identity map"));
    for (auto& e : out.errors) UNSCOPED_INFO("error: " << e);
    CHECK(out.failed == 0);
    CHECK(out.committed == expected);
    CHECK(out.final_value == expected);
  }
  // The control: the same work without the lock loses updates (or, on SQLite, fails them), so
  // the exact totals above are the lock's doing and the test can fail.
  auto control = run_counter(url, opts, CounterMode::unlocked_control, coroutines, std::max(5, increments / 5));
  const std::int64_t attempted = std::int64_t{coroutines} * std::max(5, increments / 5);
  INFO("control: final " << control.final_value << " of " << attempted << " attempted, " << control.failed
                         << " failed");
  CHECK(control.final_value < attempted);
}

// --- case 8: optimistic locking -------------------------------------------------------------

inline void optimistic_lock(const std::string& url, EngineOptions opts) {
  run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, url, opts);
    {
      AsyncSession s(engine);
      for (std::int64_t id = 1; id <= 3; ++id) {
        auto d = std::make_shared<FDoc>();
        d->id = id;
        d->body = "v1";
        s.add(d);
      }
      co_await s.commit();
      co_await s.close();
    }
    // Two sessions load doc 1; the first commits a change, the second loses.
    AsyncSession winner(engine), loser(engine);
    auto w = co_await winner.get<FDoc>(std::int64_t{1});
    auto l = co_await loser.get<FDoc>(std::int64_t{1});
    co_await winner.commit();
    co_await loser.commit();  // end the read transactions
    REQUIRE(w->version == 1);
    w->body = "winner";
    co_await winner.commit();
    CHECK(w->version == 2);
    l->body = "loser";
    std::string message;
    try {
      co_await loser.flush();
    } catch (const StaleDataError& e) {
      message = e.what();
      CHECK(e.is_retryable());
    }
    INFO("StaleDataError: " << message);
    REQUIRE_FALSE(message.empty());
    CHECK_THAT(message, Catch::Contains("fault_docs"));
    CHECK_THAT(message, Catch::Contains("expected to match 1 row") && Catch::Contains("matched 0"));
    co_await loser.rollback();
    auto conn = co_await engine.connect();
    auto r = co_await conn.execute(text("SELECT body, version FROM fault_docs WHERE id = 1"));
    auto [body, version] = r.one().as<std::string, std::int64_t>();
    CHECK(body == "winner");
    CHECK(version == 2);  // incremented once
    co_await conn.close();
    co_await winner.close();
    co_await loser.close();

    // A multi-row flush with one stale row persists nothing.
    AsyncSession many(engine);
    auto stmt = select<FDoc>().order_by(col(&FDoc::id));
    auto docs = co_await many.scalars(std::move(stmt));
    REQUIRE(docs.size() == 3);
    co_await many.commit();
    {
      auto other = co_await engine.connect();
      co_await other.execute(text("UPDATE fault_docs SET body = 'other', version = version + 1 WHERE id = 2"));
      co_await other.commit();
      co_await other.close();
    }
    for (auto& d : docs) d->body = "batch";
    bool stale = false;
    try {
      co_await many.commit();
    } catch (const StaleDataError&) {
      stale = true;
    }
    CHECK(stale);
    co_await many.rollback();
    co_await many.close();
    auto check = co_await engine.connect();
    auto rows = co_await check.execute(text("SELECT body FROM fault_docs ORDER BY id"));
    auto bodies = rows.scalars<std::string>();
    REQUIRE(bodies.size() == 3);
    CHECK(bodies[0] == "winner");
    CHECK(bodies[1] == "other");
    CHECK(bodies[2] == "v1");
    co_await check.close();
    CHECK(engine.pool_status().checked_out == 0);
  });
}

// --- case 10: exceptions and failing flushes ----------------------------------------------------

inline void failing_work(const std::string& url, EngineOptions opts, const std::string& app) {
  run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
    opts.pool.pool_size = 2;  // the session below keeps one while the checks use the other
    opts.pool.max_overflow = 0;
    opts.pool.pool_timeout = 5s;
    auto engine = create_async_engine(ex, url, opts);
    // An exception thrown by the caller's own code inside a transaction.
    bool thrown = false;
    try {
      AsyncSession s(engine);
      auto tx = co_await s.begin();
      for (std::int64_t i = 1; i <= 10; ++i) {
        auto it = std::make_shared<FItem>();
        it->id = i;
        it->name = "doomed";
        s.add(it);
      }
      co_await s.flush();
      throw std::runtime_error("business rule failed");
    } catch (const std::runtime_error& e) {
      thrown = std::string(e.what()) == "business rule failed";
    }
    CHECK(thrown);
    {
      // The connection came back clean: no transaction open, nothing persisted.
      auto c = co_await engine.connect();
      CHECK_FALSE(c.in_transaction());
      CHECK((co_await c.execute(text("SELECT count(*) FROM fault_items"))).scalar_one<std::int64_t>() == 0);
      co_await c.close();
    }
    if (test::is_postgres() && !app.empty()) CHECK(idle_in_transaction(app) == 0);

    // A 1,000-row flush whose last row breaks a constraint.
    AsyncSession s(engine);
    auto existing = std::make_shared<FItem>();
    existing->id = 5000;
    existing->name = "existing";
    s.add(existing);
    co_await s.commit();
    for (std::int64_t i = 1; i <= 1000; ++i) {
      auto it = std::make_shared<FItem>();
      it->id = i == 1000 ? 5000 : i;  // a duplicate key in the last row
      it->name = "row";
      s.add(it);
    }
    bool integrity = false;
    try {
      co_await s.flush();
    } catch (const IntegrityError& e) {
      integrity = e.is_unique_violation();
    } catch (const Error& e) {
      FAIL_CHECK("unexpected " << e.what());
    }
    CHECK(integrity);
    // The session refuses to go on until rolled back: committing must not persist half a flush.
    bool refused = false;
    try {
      co_await s.commit();
    } catch (const Error&) {
      refused = true;
    }
    CHECK(refused);
    co_await s.rollback();
    {
      auto c = co_await engine.connect();
      CHECK((co_await c.execute(text("SELECT count(*) FROM fault_items"))).scalar_one<std::int64_t>() == 1);
      co_await c.close();
    }
    // After the rollback the session works.
    auto ok = std::make_shared<FItem>();
    ok->id = 1;
    ok->name = "after";
    s.add(ok);
    co_await s.commit();
    co_await s.close();
    auto c = co_await engine.connect();
    CHECK((co_await c.execute(text("SELECT count(*) FROM fault_items"))).scalar_one<std::int64_t>() == 2);
    co_await c.close();
    CHECK(engine.pool_status().checked_out == 0);
    if (test::is_postgres() && !app.empty()) CHECK(idle_in_transaction(app) == 0);
  });
}

}  // namespace corm::fault
