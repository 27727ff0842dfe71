// PostgreSQL-only behaviour that needs two sessions: isolation anomalies, deadlocks and
// serialization failures, provoked for real between two connections.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include <future>
#include <thread>

#include "support/test_db.hpp"

using namespace corm;
using namespace std::chrono_literals;

namespace {

std::string make_accounts(Engine& engine) {
  auto conn = engine.connect();
  auto t = quote_identifier(Dialect::postgresql, test::unique_name("accounts"));
  conn.execute_script("CREATE TABLE " + t + " (id int PRIMARY KEY, balance int NOT NULL)");
  conn.execute_script("INSERT INTO " + t + " VALUES (1, 100), (2, 100)");
  conn.commit();
  return t;
}

int balance(Connection& c, const std::string& t, int id) {
  return c.execute(text("SELECT balance FROM " + t + " WHERE id = :id"), {{"id", id}}).scalar_one<int>();
}

void set_balance(Engine& engine, const std::string& t, int id, int v) {
  auto c = engine.connect();
  c.execute(text("UPDATE " + t + " SET balance = :v WHERE id = :id"), {{"v", v}, {"id", id}});
  c.commit();
}

}  // namespace

TEST_CASE("READ COMMITTED shows a non-repeatable read, REPEATABLE READ does not", "[isolation]") {
  auto engine = create_engine(test::pg_url());
  auto t = make_accounts(engine);

  auto reader = engine.connect();
  reader.set_isolation_level(IsolationLevel::read_committed);
  CHECK(balance(reader, t, 1) == 100);
  set_balance(engine, t, 1, 150);
  CHECK(balance(reader, t, 1) == 150);  // same transaction, different answer
  reader.rollback();

  reader.set_isolation_level(IsolationLevel::repeatable_read);
  CHECK(reader.isolation_level() == IsolationLevel::repeatable_read);
  CHECK(balance(reader, t, 1) == 150);
  set_balance(engine, t, 1, 200);
  CHECK(balance(reader, t, 1) == 150);  // the snapshot holds
  reader.rollback();
  CHECK(balance(reader, t, 1) == 200);
  CHECK(reader.execute(text("SHOW transaction_isolation"), {}).scalar_one<std::string>() == "repeatable read");
}

TEST_CASE("an engine-wide isolation level applies to every connection", "[isolation]") {
  EngineOptions opts;
  opts.isolation_level = IsolationLevel::serializable;
  auto engine = create_engine(test::pg_url(), opts);
  auto c = engine.connect();
  CHECK(c.execute(text("SHOW transaction_isolation"), {}).scalar_one<std::string>() == "serializable");
}

TEST_CASE("two connections locking rows in opposite order: one gets DeadlockDetected", "[deadlock]") {
  auto engine = create_engine(test::pg_url());
  auto t = make_accounts(engine);
  auto a = engine.connect(), b = engine.connect();
  a.execute(text("UPDATE " + t + " SET balance = balance - 1 WHERE id = 1"), {});
  b.execute(text("UPDATE " + t + " SET balance = balance - 1 WHERE id = 2"), {});
  auto second = std::async(std::launch::async, [&] {
    try {
      b.execute(text("UPDATE " + t + " SET balance = balance + 1 WHERE id = 1"), {});
      return std::string("ok");
    } catch (const DeadlockDetected& e) {
      return std::string("deadlock:") + e.sqlstate();
    }
  });
  std::this_thread::sleep_for(50ms);
  std::string first;
  try {
    a.execute(text("UPDATE " + t + " SET balance = balance + 1 WHERE id = 2"), {});
    first = "ok";
  } catch (const DeadlockDetected& e) {
    first = std::string("deadlock:") + e.sqlstate();
    CHECK(e.is_retryable());
    a.rollback();
  }
  const std::string other = second.get();
  if (other != "ok") b.rollback();
  // Exactly one side loses, with SQLSTATE 40P01.
  CHECK(((first == "deadlock:40P01") != (other == "deadlock:40P01")));
  a.rollback();
  b.rollback();
}

TEST_CASE("concurrent SERIALIZABLE writers: the loser gets SerializationFailure", "[serializable]") {
  auto engine = create_engine(test::pg_url());
  auto t = make_accounts(engine);
  auto a = engine.connect(), b = engine.connect();
  a.set_isolation_level(IsolationLevel::serializable);
  b.set_isolation_level(IsolationLevel::serializable);
  // Write skew: each reads the sum, then writes a row the other read.
  const auto sum_sql = text("SELECT sum(balance) FROM " + t);
  CHECK(a.execute(sum_sql, {}).scalar_one<std::int64_t>() == 200);
  CHECK(b.execute(sum_sql, {}).scalar_one<std::int64_t>() == 200);
  a.execute(text("UPDATE " + t + " SET balance = 0 WHERE id = 1"), {});
  b.execute(text("UPDATE " + t + " SET balance = 0 WHERE id = 2"), {});
  a.commit();
  try {
    b.commit();
    FAIL("the second serializable commit must fail");
  } catch (const SerializationFailure& e) {
    CHECK(e.sqlstate() == "40001");
    CHECK(e.is_retryable());
  }
}
