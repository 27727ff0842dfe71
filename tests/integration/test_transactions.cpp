// Commit-as-you-go, explicit transactions, savepoints and their partial rollback, observed by a
// second connection and by the rows left in the table.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include "support/test_db.hpp"

using namespace corm;

namespace {

std::string make_table(Engine& engine) {
  auto conn = engine.connect();
  auto t = quote_identifier(conn.dialect(), test::unique_name("tx"));
  conn.execute_script("CREATE TABLE " + t + " (id INTEGER PRIMARY KEY, name TEXT)");
  conn.commit();
  return t;
}

std::int64_t count(Engine& engine, const std::string& t) {
  auto conn = engine.connect();
  return conn.execute(text("SELECT count(*) FROM " + t), {}).scalar_one<std::int64_t>();
}

void insert(Connection& conn, const std::string& t, int id) {
  conn.execute(text("INSERT INTO " + t + " (id, name) VALUES (:id, :n)"), {{"id", id}, {"n", "row"}});
}

}  // namespace

TEST_CASE("statements begin a transaction that commit() makes visible to others", "[tx]") {
  auto engine = create_engine(test::database_url());
  auto t = make_table(engine);
  auto conn = engine.connect();
  insert(conn, t, 1);
  CHECK(conn.in_transaction());
  CHECK(count(engine, t) == 0);  // not yet committed
  conn.commit();
  CHECK_FALSE(conn.in_transaction());
  CHECK(count(engine, t) == 1);
}

TEST_CASE("closing a connection rolls back what it did not commit", "[tx]") {
  auto engine = create_engine(test::database_url());
  auto t = make_table(engine);
  {
    auto conn = engine.connect();
    insert(conn, t, 1);
  }
  CHECK(count(engine, t) == 0);
}

TEST_CASE("a Transaction rolls back when it leaves scope through an exception", "[tx]") {
  auto engine = create_engine(test::database_url());
  auto t = make_table(engine);
  auto conn = engine.connect();
  try {
    auto tx = conn.begin();
    insert(conn, t, 1);
    throw std::runtime_error("business rule failed");
  } catch (const std::runtime_error&) {
  }
  CHECK_FALSE(conn.in_transaction());
  CHECK(count(engine, t) == 0);
  auto tx = conn.begin();
  insert(conn, t, 2);
  tx.commit();
  CHECK_FALSE(tx.is_active());
  CHECK(count(engine, t) == 1);
  CHECK_THROWS_AS(tx.commit(), UsageError);
}

TEST_CASE("begin() twice is refused and points to begin_nested()", "[tx]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  auto tx = conn.begin();
  try {
    (void)conn.begin();
    FAIL("second begin() must throw");
  } catch (const UsageError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("begin_nested"));
  }
}

TEST_CASE("savepoints: work A and C commit although B failed", "[tx][savepoint]") {
  auto engine = create_engine(test::database_url());
  auto t = make_table(engine);
  auto conn = engine.connect();
  auto tx = conn.begin();
  insert(conn, t, 1);  // A
  {
    auto sp = conn.begin_nested();
    CHECK(conn.in_nested_transaction());
    insert(conn, t, 2);  // B ...
    CHECK_THROWS_AS(insert(conn, t, 1), IntegrityError);  // ... fails
    sp.rollback();
  }
  CHECK_FALSE(conn.in_nested_transaction());
  {
    auto sp = conn.begin_nested();
    insert(conn, t, 3);  // C
    sp.commit();
  }
  tx.commit();
  auto ids = engine.connect().execute(text("SELECT id FROM " + t + " ORDER BY id"), {}).scalars<int>();
  CHECK(ids == std::vector<int>{1, 3});
}

TEST_CASE("nested savepoints roll back to the right point", "[tx][savepoint]") {
  auto engine = create_engine(test::database_url());
  auto t = make_table(engine);
  auto conn = engine.connect();
  insert(conn, t, 1);
  auto outer = conn.begin_nested();
  insert(conn, t, 2);
  auto inner = conn.begin_nested();
  insert(conn, t, 3);
  outer.rollback();  // also discards the inner savepoint
  CHECK_FALSE(inner.is_active());
  CHECK(conn.in_transaction());
  conn.commit();
  CHECK(count(engine, t) == 1);
}

TEST_CASE("AUTOCOMMIT makes each statement durable on its own", "[tx][isolation]") {
  EngineOptions opts;
  opts.isolation_level = IsolationLevel::autocommit;
  auto engine = create_engine(test::database_url(), opts);
  auto t = make_table(engine);
  auto conn = engine.connect();
  insert(conn, t, 1);
  CHECK_FALSE(conn.in_transaction());
  CHECK(count(engine, t) == 1);
}

TEST_CASE("commit after a failed statement refuses instead of silently rolling back", "[tx]") {
  auto engine = create_engine(test::database_url());
  auto t = make_table(engine);
  auto conn = engine.connect();
  insert(conn, t, 1);
  CHECK_THROWS_AS(insert(conn, t, 1), IntegrityError);
  if (test::is_postgres()) {
    // PostgreSQL aborted the whole transaction; committing must not pretend it worked.
    CHECK_THROWS_AS(conn.commit(), DatabaseError);
    CHECK(count(engine, t) == 0);
  } else {
    // SQLite undoes only the failed statement; the transaction goes on.
    conn.commit();
    CHECK(count(engine, t) == 1);
  }
  insert(conn, t, 5);
  conn.commit();
  CHECK(count(engine, t) == (test::is_postgres() ? 1 : 2));
}

TEST_CASE("a closed connection refuses work with a clear message", "[tx]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  conn.close();
  CHECK(conn.closed());
  try {
    conn.execute(text("SELECT 1"), {});
    FAIL("closed connection must refuse");
  } catch (const UsageError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("engine.connect()"));
  }
}
