// A connection returned to the pool reaches its next user as a fresh one would: session
// settings, advisory locks and temporary tables (PostgreSQL), PRAGMAs and attached databases
// (SQLite) do not carry over. Echo and listeners see the ROLLBACK that ends a closed
// connection's transaction.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/test_db.hpp"

using namespace corm;

namespace {
EngineOptions one_connection() {
  EngineOptions opts;
  opts.pool.pool_size = 1;
  opts.pool.max_overflow = 0;
  return opts;
}
}  // namespace

TEST_CASE("a session setting made and committed does not reach the connection's next user", "[pool][reset]") {
  auto engine = create_engine(test::database_url(), one_connection());
  if (test::is_mysql()) {
    std::int64_t fresh = 0;
    {
      auto c = engine.connect();
      fresh = c.exec_driver_sql("SELECT @@session.wait_timeout").scalar_one<std::int64_t>();
      c.exec_driver_sql("SET SESSION wait_timeout = 1234");
      c.exec_driver_sql("SET @leftover = 'from the last user'");
      c.commit();
      CHECK(c.exec_driver_sql("SELECT @@session.wait_timeout").scalar_one<std::int64_t>() == 1234);
    }
    auto c = engine.connect();
    CHECK(fresh != 1234);
    CHECK(c.exec_driver_sql("SELECT @@session.wait_timeout").scalar_one<std::int64_t>() == fresh);
    CHECK(c.exec_driver_sql("SELECT @leftover IS NULL").scalar_one<std::int64_t>() == 1);
    return;
  }
  if (test::is_postgres()) {
    int pid = 0;
    {
      auto c = engine.connect();
      pid = c.backend_pid();
      c.exec_driver_sql("SET search_path TO pg_catalog");
      c.exec_driver_sql("SET statement_timeout = 1234");
      c.exec_driver_sql("CREATE TEMP TABLE scratch (x int)");
      c.commit();
      CHECK(c.exec_driver_sql("SHOW statement_timeout").scalar_one<std::string>() == "1234ms");
    }
    auto c = engine.connect();
    CHECK(c.backend_pid() == pid);  // the same server session, reset rather than replaced
    CHECK(c.exec_driver_sql("SHOW search_path").scalar_one<std::string>() == "\"$user\", public");
    CHECK(c.exec_driver_sql("SHOW statement_timeout").scalar_one<std::string>() == "0");
    CHECK(c.exec_driver_sql("SELECT count(*) FROM pg_class WHERE relname = 'scratch' AND relpersistence = 't'")
              .scalar_one<std::int64_t>() == 0);
  } else if (test::is_mysql()) {
    int id = 0;
    {
      auto c = engine.connect();
      id = c.backend_pid();
      c.exec_driver_sql("SET @corm_marker = 42");
      c.exec_driver_sql("SET SESSION sql_select_limit = 7");
      c.exec_driver_sql("CREATE TEMPORARY TABLE scratch (x int)");
      c.commit();
      CHECK(c.exec_driver_sql("SELECT @@SESSION.sql_select_limit").scalar_one<std::int64_t>() == 7);
    }
    auto c = engine.connect();
    CHECK(c.backend_pid() == id);  // the same server session, reset rather than replaced
    CHECK(c.exec_driver_sql("SELECT @corm_marker").scalar_one<std::optional<std::int64_t>>() == std::nullopt);
    CHECK(c.exec_driver_sql("SELECT @@SESSION.sql_select_limit = @@GLOBAL.sql_select_limit").scalar_one<std::int64_t>() ==
          1);
    CHECK_THROWS_AS(c.exec_driver_sql("SELECT x FROM scratch"), ProgrammingError);  // the temporary table is gone
    // The session setup is back too: corm's timestamps are UTC.
    CHECK(c.exec_driver_sql("SELECT @@SESSION.time_zone").scalar_one<std::string>() == "+00:00");
  } else {
    // (PRAGMA foreign_keys would be ignored here: it is a no-op inside a transaction.)
    std::int64_t fresh = 0;
    {
      auto c = engine.connect();
      fresh = c.exec_driver_sql("PRAGMA cache_size").scalar_one<std::int64_t>();
      c.exec_driver_sql("PRAGMA cache_size = 123");
      CHECK(c.exec_driver_sql("PRAGMA cache_size").scalar_one<std::int64_t>() == 123);
      c.commit();
    }
    auto c = engine.connect();
    CHECK(fresh != 123);
    CHECK(c.exec_driver_sql("PRAGMA cache_size").scalar_one<std::int64_t>() == fresh);
  }
}

TEST_CASE("an advisory lock held at check-in is released for everyone else", "[pool][reset]") {
  if (!test::is_postgres()) return;  // SQLite has no advisory locks
  auto engine = create_engine(test::pg_url(), one_connection());
  auto other = create_engine(test::pg_url());
  const std::int64_t key = 0x636f726d;  // "corm"
  {
    auto c = engine.connect();
    CHECK(c.exec_driver_sql("SELECT pg_try_advisory_lock($1)", {Value(key)}).scalar_one<bool>());
  }
  auto o = other.connect();
  CHECK(o.exec_driver_sql("SELECT pg_try_advisory_lock($1)", {Value(key)}).scalar_one<bool>());
  CHECK(o.exec_driver_sql("SELECT pg_advisory_unlock($1)", {Value(key)}).scalar_one<bool>());
}

TEST_CASE("only a connection that changed its session pays for a reset at check-in", "[pool][reset]") {
  if (!test::is_postgres()) return;  // observed through the server's pg_stat_activity
  auto engine = create_engine(test::pg_url(), one_connection());
  auto observer = create_engine(test::pg_url());
  // The last statement the server ran for backend `pid`, once it is idle.
  auto last_query = [&](int pid) {
    auto o = observer.connect();
    auto q = o.exec_driver_sql("SELECT query FROM pg_stat_activity WHERE pid = $1 AND state = 'idle'",
                               {Value(std::int64_t{pid})});
    std::string out = q.empty() ? std::string() : q.scalar_one<std::string>();
    o.commit();  // statistics are a snapshot per transaction
    return out;
  };
  int pid = 0;
  {
    auto c = engine.connect();
    pid = c.backend_pid();
    c.exec_driver_sql("SELECT 41 + 1");
    c.commit();
  }
  const std::string before = last_query(pid);  // the user's statement or its COMMIT, no reset
  CHECK((before == "SELECT 41 + 1" || before == "COMMIT"));
  {
    auto c = engine.connect();
    c.exec_driver_sql("SET search_path TO pg_catalog");
    c.commit();
  }
  // The reset travels without a wait of its own; the server runs it at once.
  std::string last;
  for (int i = 0; i < 500 && (last = last_query(pid)) != "DISCARD SEQUENCES"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(last == "DISCARD SEQUENCES");
}

TEST_CASE("echo and listeners see the ROLLBACK of a connection closed inside a transaction", "[pool][events]") {
  auto engine = create_engine(test::database_url());
  std::vector<std::string> seen;
  engine.events().after_execute([&](const StatementEvent& e) { seen.emplace_back(e.sql); });
  {
    auto c = engine.connect();
    const auto t = quote_identifier(c.dialect(), test::unique_name("closing"));
    c.execute_script("CREATE TABLE " + t + " (id INTEGER PRIMARY KEY)");
    c.commit();
    c.exec_driver_sql("INSERT INTO " + t + " VALUES (1)");
    seen.clear();
    c.close();
  }
  REQUIRE(seen.size() == 1);
  CHECK(seen.front() == "ROLLBACK");
}
