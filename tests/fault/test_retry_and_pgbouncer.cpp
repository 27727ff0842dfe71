// Reliability fault 9 (deadlocks re-run the whole unit of work through corm::ext::transactional;
// non-retryable errors and COMMITs of unknown outcome are never retried) and case 17 (the
// transaction and concurrency cases through PgBouncer in transaction mode, statement cache off).
#if defined(CORM_TEST_BACKEND_POSTGRES)

#include <corm/ext/transactional.hpp>
#include <corm/ext/async_transactional.hpp>
#include <corm/orm/detail/session_access.hpp>

#include <set>

#include "fault/concurrency_cases.hpp"
#include "support/fault_proxy.hpp"

using namespace corm;
using namespace corm::fault;
using test::FaultProxy;

namespace {

std::string fast_deadlocks(const std::string& url) {
  // 100 ms is also the test cluster's setting; say it here so the test does not depend on it.
  return Url::parse(url).with_query("options", "-c deadlock_timeout=100ms").str();
}

struct UnitLog {
  int attempts = 0;
  std::vector<bool> fresh;  // the session's identity map was empty when the attempt began
};

// Two units of work lock rows 1 and 2 in opposite orders, each waiting on its first attempt
// until the other holds its first row: a deadlock the server breaks after deadlock_timeout.
void deadlock_retry(const std::string& url, EngineOptions opts) {
  run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
    opts.pool.pool_size = 4;
    opts.pool.max_overflow = 0;
    auto engine = create_async_engine(ex, url, opts);
    UnitLog a, b;
    bool a_holds = false, b_holds = false;
    std::vector<std::string> retried;
    auto make_unit = [&](std::int64_t first, std::int64_t second, std::int64_t add_first, std::int64_t add_second,
                         UnitLog& log, bool& mine, bool& theirs) {
      return [&, first, second, add_first, add_second](AsyncSession& s) -> awaitable<void> {
        ++log.attempts;
        log.fresh.push_back(corm::detail::SessionAccess::core(s).tracked().empty());
        auto ex2 = co_await asio::this_coro::executor;
        auto q1 = select<FCounter>().where(col(&FCounter::id) == first).with_for_update();
        auto r1 = co_await s.scalars(std::move(q1));
        r1.at(0)->value += add_first;
        if (log.attempts == 1) {
          mine = true;
          for (int i = 0; i < 400 && !theirs; ++i) co_await sleep_for(ex2, 5ms);
        }
        auto q2 = select<FCounter>().where(col(&FCounter::id) == second).with_for_update();
        auto r2 = co_await s.scalars(std::move(q2));
        r2.at(0)->value += add_second;
      };
    };
    ext::TxOptions tx;
    tx.retry = ext::RetryPolicy::on_conflict(5);
    tx.retry.on_retry = [&](int, const Error& e) {
      retried.emplace_back(dynamic_cast<const DeadlockDetected*>(&e) != nullptr ? "DeadlockDetected" : e.what());
    };
    int done = 0;
    std::vector<std::string> failures;
    auto unit_a = make_unit(1, 2, 1, 10, a, a_holds, b_holds);
    auto unit_b = make_unit(2, 1, 100, 1000, b, b_holds, a_holds);
    auto run_a = [&]() -> awaitable<void> {
      try {
        co_await ext::transactional(engine, unit_a, tx);
      } catch (const std::exception& e) {
        failures.emplace_back(e.what());
      }
      ++done;
    };
    auto run_b = [&]() -> awaitable<void> {
      try {
        co_await ext::transactional(engine, unit_b, tx);
      } catch (const std::exception& e) {
        failures.emplace_back(e.what());
      }
      ++done;
    };
    asio::co_spawn(ex, run_a(), asio::detached);
    asio::co_spawn(ex, run_b(), asio::detached);
    while (done < 2) co_await sleep_for(ex, 5ms);
    for (auto& f : failures) UNSCOPED_INFO("failed: " << f);
    CHECK(failures.empty());
    CHECK(a.attempts + b.attempts == 3);  // exactly one victim, re-run once
    REQUIRE(retried.size() == 1);
    CHECK(retried[0] == "DeadlockDetected");
    for (bool f : a.fresh) CHECK(f);
    for (bool f : b.fresh) CHECK(f);
    auto c = co_await engine.connect();
    auto values = (co_await c.execute(text("SELECT value FROM fault_counters ORDER BY id"))).scalars<std::int64_t>();
    REQUIRE(values.size() == 2);
    CHECK(values[0] == 1 + 1000);  // each unit's whole work applied exactly once
    CHECK(values[1] == 10 + 100);
    co_await c.close();
    CHECK(engine.pool_status().checked_out == 0);
  });
}

}  // namespace

// --- case 9 ----------------------------------------------------------------------------------

TEST_CASE("fault 9a: a deadlock re-runs the whole unit of work with a fresh session", "[fault][deadlock]") {
  FaultDb db;
  seed_counters(db, 2);
  deadlock_retry(fast_deadlocks(db.url()), {});
}

TEST_CASE("fault 9b: retries are bounded and jittered, non-retryable errors propagate at once", "[fault][deadlock]") {
  FaultDb db;
  db.create<FItem>();
  db.exec("INSERT INTO fault_items (id, name, n) VALUES (1, 'taken', 0)");
  run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, db.url());
    ext::TxOptions tx;
    tx.retry = ext::RetryPolicy::on_conflict(4);
    std::vector<Clock::time_point> starts;
    // A unit of work that always deadlocks (the server raises 40P01 every time).
    auto always = [&](AsyncSession& s) -> awaitable<void> {
      starts.push_back(Clock::now());
      AsyncConnection* c = co_await s.connection();
      co_await c->exec_driver_sql("DO $$ BEGIN RAISE EXCEPTION 'forced deadlock' USING ERRCODE = '40P01'; END $$");
    };
    bool deadlock = false;
    try {
      co_await ext::transactional(engine, always, tx);
    } catch (const DeadlockDetected&) {
      deadlock = true;
    }
    CHECK(deadlock);
    CHECK(starts.size() == 4);  // bounded: max_attempts in total
    for (std::size_t i = 1; i < starts.size(); ++i) {
      const auto gap = starts[i] - starts[i - 1];
      CHECK(gap < tx.retry.max_delay + 500ms);
    }
    // Non-retryable: a duplicate key propagates after one attempt, with no backoff.
    int attempts = 0;
    auto dup = [&](AsyncSession& s) -> awaitable<void> {
      ++attempts;
      auto it = std::make_shared<FItem>();
      it->id = 1;
      it->name = "dup";
      s.add(it);
      co_await s.flush();
    };
    const auto t0 = Clock::now();
    bool integrity = false;
    try {
      co_await ext::transactional(engine, dup, tx);
    } catch (const IntegrityError&) {
      integrity = true;
    }
    CHECK(integrity);
    CHECK(attempts == 1);
    CHECK(seconds_since(t0) < 0.5);
    CHECK(engine.pool_status().checked_out == 0);
  });
  // Jitter: backoffs are spread over [0, min(max_delay, base * 2^(k-1))].
  auto policy = ext::RetryPolicy::on_conflict(5);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto d = policy.backoff(3);
    CHECK(d.count() >= 0);
    CHECK(d <= policy.base_delay * 4);
    seen.insert(d.count());
  }
  CHECK(seen.size() > 10);
}

TEST_CASE("fault 9c: a COMMIT cut off mid-flight raises CommitOutcomeUnknown and is never retried",
          "[fault][deadlock][proxy]") {
  FaultDb db;
  db.create<FItem>();
  auto proxy = FaultProxy::for_url(test::pg_url());
  for (bool reached_server : {false, true}) {
    run_bounded(60s, [&](asio::any_io_executor ex) -> awaitable<void> {
      auto engine = create_async_engine(ex, proxy->url_through(db.url()));
      {
        auto warm = co_await engine.connect();
        co_await warm.execute(text("SELECT 1"));
        co_await warm.close();
      }
      ext::TxOptions tx;
      tx.retry = ext::RetryPolicy::on_conflict(5);
      int attempts = 0;
      const std::int64_t id = reached_server ? 2 : 1;
      auto work = [&](AsyncSession& s) -> awaitable<void> {
        ++attempts;
        auto it = std::make_shared<FItem>();
        it->id = id;
        it->name = "maybe";
        s.add(it);
        co_await s.flush();
      };
      proxy->cut_on_client_text("COMMIT", reached_server);
      std::string outcome;
      try {
        co_await ext::transactional(engine, work, tx);
        outcome = "committed";
      } catch (const CommitOutcomeUnknown& e) {
        outcome = "unknown";
        CHECK_THAT(std::string(e.what()), Catch::Contains("COMMIT") || Catch::Contains("commit"));
      } catch (const std::exception& e) {
        outcome = std::string("other: ") + e.what();
      }
      proxy->clear_rules();
      INFO("COMMIT " << (reached_server ? "reached" : "never reached") << " the server");
      CHECK(outcome == "unknown");
      CHECK(attempts == 1);  // never retried: the first attempt may have committed
      CHECK(engine.pool_status().checked_out == 0);
    });
    const std::int64_t expected = reached_server ? 1 : 0;
    CHECK(eventually(3s, [&] {
      return db.scalar("SELECT count(*) FROM fault_items WHERE id = " + std::to_string(reached_server ? 2 : 1)) ==
             expected;
    }));
  }
}

// --- case 17 ---------------------------------------------------------------------------------

namespace {

EngineOptions bouncer_options() {
  EngineOptions o;
  o.connect.statement_cache_size = 0;  // transaction pooling: no server-side prepared statements
  return o;
}

}  // namespace

TEST_CASE("fault 17a: through PgBouncer (transaction mode, no statement cache): exact counter and cancel races",
          "[fault][pgbouncer]") {
  FaultDb db;
  seed_counters(db, 1);
  exact_counter(db.bouncer_url(), bouncer_options(), 64, 50);
  cancel_waiters_race(db.bouncer_url(), bouncer_options());
}

TEST_CASE("fault 17b: through PgBouncer: optimistic locking and failing transactions", "[fault][pgbouncer]") {
  FaultDb db;
  db.create<FDoc, FItem>();
  optimistic_lock(db.bouncer_url(), bouncer_options());
  failing_work(db.bouncer_url(), bouncer_options(), "");
}

TEST_CASE("fault 17c: through PgBouncer: a deadlock is retried as a whole unit of work", "[fault][pgbouncer]") {
  FaultDb db;
  seed_counters(db, 2);
  // PgBouncer ignores startup options; the cluster itself runs with deadlock_timeout = 100ms.
  deadlock_retry(db.bouncer_url(), bouncer_options());
}

#endif  // CORM_TEST_BACKEND_POSTGRES
