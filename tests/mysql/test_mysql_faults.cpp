// Faults on MySQL / MariaDB through the async front against a real server: a session killed by
// the server mid-transaction, a lock wait timeout and a real deadlock between two coroutines,
// both retried by transactional() to an exact result.
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>
#include <corm/corm.hpp>
#include <corm/ext/transactional.hpp>
#include <corm/ext/async_transactional.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "mysql/mysql_db.hpp"
#include "support/async_test.hpp"
#include "support/test_db.hpp"

namespace h32f {
struct Counter {
  std::int64_t id{};
  std::int64_t value{};
};
}  // namespace h32f

template <>
struct corm::Model<h32f::Counter> {
  static constexpr auto table = corm::table("fault_counters", corm::column("id", &h32f::Counter::id, corm::primary_key),
                                            corm::column("value", &h32f::Counter::value));
};

using namespace corm;
using namespace std::chrono_literals;
using h32f::Counter;
namespace asio = boost::asio;

namespace {

const MetaData& fault_tables() {
  static const MetaData m = [] {
    MetaData t;
    t.add<Counter>();
    return t;
  }();
  return m;
}

struct Db : test::MysqlDb {
  Db() : MysqlDb(fault_tables()) {
    Engine e = create_engine(url);
    Connection c = e.connect();
    c.exec_driver_sql("INSERT INTO fault_counters (id, value) VALUES (1, 0), (2, 0)");
    c.commit();
  }
};

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

std::vector<std::int64_t> values(const std::string& url) {
  Engine e = create_engine(url);
  Connection c = e.connect();
  return c.exec_driver_sql("SELECT value FROM fault_counters ORDER BY id").scalars<std::int64_t>();
}

}  // namespace

TEST_CASE("a session killed by the server mid-transaction: ConnectionLost until rollback, nothing half committed, "
          "the pool replaces it",
          "[mysql][faults]") {
  Db db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    EngineOptions o;
    o.pool.pool_size = 1;
    o.pool.max_overflow = 0;
    AsyncEngine engine = create_async_engine(ex, db.url, o);
    int killed = 0;
    {
      AsyncConnection c = co_await engine.connect();
      killed = c.backend_pid();
      co_await c.exec_driver_sql("UPDATE fault_counters SET value = 5 WHERE id = 1");
      co_await c.exec_driver_sql("INSERT INTO fault_counters (id, value) VALUES (3, 7)");
      {
        Engine admin = create_engine(test::mysql_url());
        Connection k = admin.connect();
        k.exec_driver_sql("KILL CONNECTION " + std::to_string(killed));
      }
      bool lost = false;
      try {
        co_await c.exec_driver_sql("UPDATE fault_counters SET value = 6 WHERE id = 2");
      } catch (const ConnectionLost&) {
        lost = true;
      }
      CHECK(lost);
      // The transaction is gone with the session: every statement says so until rollback().
      bool again = false;
      try {
        co_await c.exec_driver_sql("SELECT 1");
      } catch (const ConnectionLost& e) {
        again = true;
        CHECK_THAT(e.what(), Catch::Contains("rollback()"));
      }
      CHECK(again);
      bool committed = true;
      try {
        co_await c.commit();
      } catch (const ConnectionLost&) {
        committed = false;
      }
      CHECK_FALSE(committed);
      co_await c.rollback();
      co_await c.close();
    }
    CHECK(engine.pool_status().checked_out == 0);
    AsyncConnection c = co_await engine.connect();
    CHECK(c.backend_pid() != killed);
    auto r = co_await c.exec_driver_sql("SELECT COUNT(*), CAST(SUM(value) AS SIGNED) FROM fault_counters");
    auto row = r.one();
    CHECK(row.get<std::int64_t>(0) == 2);  // the insert is absent
    CHECK(row.get<std::int64_t>(1) == 0);  // and so is the update
    co_await c.close();
  });
}

TEST_CASE("a lock wait timeout is retried by transactional() until the lock is free, to an exact result",
          "[mysql][faults][locks]") {
  Db db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    // Another transaction holds row 1 for about 1.5 s: longer than one lock wait.
    AsyncConnection holder = co_await engine.connect();
    co_await holder.exec_driver_sql("UPDATE fault_counters SET value = value + 100 WHERE id = 1");
    bool released = false;
    auto release = [&]() -> asio::awaitable<void> {
      co_await pause(1500ms);
      co_await holder.commit();
      co_await holder.close();
      released = true;
    };
    asio::co_spawn(ex, release(), asio::detached);

    int attempts = 0;
    std::vector<int> codes;
    ext::TxOptions tx;
    tx.retry = ext::RetryPolicy::on_conflict(6);
    tx.retry.base_delay = 50ms;
    tx.retry.max_delay = 200ms;
    tx.retry.on_retry = [&](int, const Error& e) {
      if (dynamic_cast<const SerializationFailure*>(&e) != nullptr) codes.push_back(e.result_code());
    };
    auto unit = [&](AsyncSession& s) -> asio::awaitable<void> {
      ++attempts;
      auto short_wait = text("SET SESSION innodb_lock_wait_timeout = 1");
      co_await s.execute(std::move(short_wait));
      auto q = select<Counter>().where(col(&Counter::id) == 1).with_for_update();
      auto rows = co_await s.scalars(std::move(q));
      rows.at(0)->value += 1;
    };
    co_await ext::transactional(engine, unit, tx);
    // The unit got the row only once the holder committed (its close may still be under way).
    for (int i = 0; i < 400 && !released; ++i) co_await pause(5ms);
    CHECK(released);
    CHECK(attempts >= 2);
    CHECK(codes.size() == static_cast<std::size_t>(attempts - 1));
    for (int code : codes) CHECK(code == 1205);
  });
  CHECK(values(db.url) == std::vector<std::int64_t>{101, 0});
}

TEST_CASE("a real deadlock between two coroutines is retried by transactional() to an exact sum",
          "[mysql][faults][deadlock]") {
  Db db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    EngineOptions o;
    o.pool.pool_size = 4;
    o.pool.max_overflow = 0;
    AsyncEngine engine = create_async_engine(ex, db.url, o);
    int attempts_a = 0, attempts_b = 0;
    bool a_holds = false, b_holds = false;
    std::vector<std::string> retried;
    // Each unit locks its first row, waits (first attempt only) until the other holds its own
    // first row, then asks for the other's: InnoDB detects the cycle at once and rolls one back.
    auto make_unit = [&](std::int64_t first, std::int64_t second, std::int64_t add_first, std::int64_t add_second,
                         int& attempts, bool& mine, bool& theirs) {
      return [&, first, second, add_first, add_second](AsyncSession& s) -> asio::awaitable<void> {
        ++attempts;
        auto q1 = select<Counter>().where(col(&Counter::id) == first).with_for_update();
        auto r1 = co_await s.scalars(std::move(q1));
        r1.at(0)->value += add_first;
        if (attempts == 1) {
          mine = true;
          for (int i = 0; i < 400 && !theirs; ++i) co_await pause(5ms);
        }
        auto q2 = select<Counter>().where(col(&Counter::id) == second).with_for_update();
        auto r2 = co_await s.scalars(std::move(q2));
        r2.at(0)->value += add_second;
      };
    };
    ext::TxOptions tx;
    tx.retry = ext::RetryPolicy::on_conflict(5);
    tx.retry.on_retry = [&](int, const Error& e) {
      retried.emplace_back(dynamic_cast<const DeadlockDetected*>(&e) != nullptr ? "DeadlockDetected" : e.what());
    };
    auto unit_a = make_unit(1, 2, 1, 10, attempts_a, a_holds, b_holds);
    auto unit_b = make_unit(2, 1, 100, 1000, attempts_b, b_holds, a_holds);
    int done = 0;
    std::vector<std::string> failures;
    auto run = [&](auto& unit) -> asio::awaitable<void> {
      try {
        co_await ext::transactional(engine, unit, tx);
      } catch (const std::exception& e) {
        failures.emplace_back(e.what());
      }
      ++done;
    };
    asio::co_spawn(ex, run(unit_a), asio::detached);
    asio::co_spawn(ex, run(unit_b), asio::detached);
    while (done < 2) co_await pause(5ms);
    for (auto& f : failures) UNSCOPED_INFO("failed: " << f);
    CHECK(failures.empty());
    CHECK(attempts_a + attempts_b == 3);  // exactly one victim, re-run once
    REQUIRE(retried.size() == 1);
    CHECK(retried[0] == "DeadlockDetected");
    CHECK(engine.pool_status().checked_out == 0);
  });
  CHECK(values(db.url) == std::vector<std::int64_t>{1 + 1000, 10 + 100});
}
