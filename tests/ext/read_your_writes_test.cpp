// Read-your-writes against a real replica: the PostgreSQL streaming standby CORM_TEST_PG_REPLICA
// of CORM_TEST_PG, and the MariaDB GTID replica CORM_TEST_MYSQL_REPLICA of CORM_TEST_MYSQL.
// Replication is made to lag on purpose — pg_wal_replay_pause() on the standby, STOP SLAVE
// SQL_THREAD on the replica — and resumed by a guard, also when a check fails. Other suites
// share the replicas; scripts/test runs ctest serially, and a pause lasts well under a second.
// Which engine answered is counted through each engine's events (Queries: statements, not
// transaction control), probes included.
//
// SQLite has no replicas: there read-your-writes does nothing and a causal token is refused
// (the last case, the only one in the SQLite build).

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "corm/ext.hpp"
#include "ext/ext_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::ext_test;
using corm::test::ExtDb;
using corm::test::Queries;
namespace asio = boost::asio;
using namespace std::chrono_literals;

#if defined(CORM_TEST_BACKEND_POSTGRES) || defined(CORM_TEST_BACKEND_MYSQL)

namespace {

/// The replica's URL for the database (MariaDB) or schema (PostgreSQL) of `db`.
std::string replica_url(const ExtDb& db) {
  if (test::is_postgres()) return test::schema_url(test::pg_replica_url(), db.schema);
  return Url::parse(test::mysql_replica_url()).with_database(db.schema).str_with_password();
}

/// Polls the replica (bounded: 30 s) until row `id` of ext_lines is there.
void catch_up(const std::string& replica, std::int64_t id) {
  Engine e = create_engine(replica);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    try {
      Connection c = e.connect();
      if (c.execute(select(func<std::int64_t>("count", col(&Line::id))).where(col(&Line::id) == id))
              .scalar_one<std::int64_t>() == 1)
        return;
    } catch (const Error&) {
      // the database or table has not reached the replica yet
    }
    if (std::chrono::steady_clock::now() > deadline) FAIL("the replica did not catch up within 30 s");
    std::this_thread::sleep_for(20ms);
  }
}

/// Stops the replica applying what it receives until resume() or destruction.
class ReplayPause {
 public:
  explicit ReplayPause(const std::string& replica) : admin_(create_engine(replica)) {
    Connection c = admin_.connect();
    if (test::is_postgres()) {
      c.exec_driver_sql("SELECT pg_wal_replay_pause()");
      c.rollback();
      // The pause takes effect after the record being replayed.
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (c.exec_driver_sql("SELECT pg_get_wal_replay_pause_state()").scalar_one<std::string>() != "paused") {
        c.rollback();
        if (std::chrono::steady_clock::now() > deadline) FAIL("the standby did not pause replay within 30 s");
        std::this_thread::sleep_for(5ms);
      }
    } else {
      c.set_isolation_level(IsolationLevel::autocommit);  // not inside a transaction (MySQL error 1192)
      c.exec_driver_sql("STOP SLAVE SQL_THREAD");
    }
    paused_ = true;
  }
  ReplayPause(const ReplayPause&) = delete;
  ReplayPause& operator=(const ReplayPause&) = delete;
  ~ReplayPause() {
    try {
      resume();
    } catch (...) {
    }
  }
  void resume() {
    if (!paused_) return;
    Connection c = admin_.connect();
    c.set_isolation_level(IsolationLevel::autocommit);
    c.exec_driver_sql(test::is_postgres() ? "SELECT pg_wal_replay_resume()" : "START SLAVE SQL_THREAD");
    paused_ = false;
  }

 private:
  Engine admin_;
  bool paused_ = false;
};

std::shared_ptr<Line> line(std::int64_t id, std::string label) {
  auto l = std::make_shared<Line>();
  l->id = id;
  l->label = std::move(label);
  return l;
}

const char* token_prefix() { return test::is_postgres() ? "pg." : "mariadb."; }

}  // namespace

TEST_CASE("read-your-writes: with replay paused, a read after a commit is answered by the writer and sees the row, "
          "reads with nothing to wait for stay on the replica, a causal token carries the position to another "
          "process, after resume one bounded wait, then the replica",
          "[ext][routing][replica][ryw]") {
  ExtDb db;
  const std::string replica = replica_url(db);
  {
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Line>().values(Line{1, "before"}));
    c.commit();
  }
  catch_up(replica, 1);
  ReplayPause pause(replica);
  std::string token;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine writer = create_async_engine(ex, db.url);
    AsyncEngine reader = create_async_engine(ex, replica);
    Queries w(writer), r(reader);
    ext::AsyncEnginePair pair(writer, reader, ext::ReadYourWrites{200ms});

    ext::AsyncRoutingSession rs(pair);
    for (int i = 0; i < 3; ++i) {
      auto lines = co_await rs->scalars(select<Line>());
      CHECK(lines.size() == 1);
    }
    CHECK(r.take() == 3);  // nothing written: the replica answers, and no probe was needed
    CHECK(w.take() == 0);
    CHECK(rs.causal_token().empty());

    rs->add(line(2, "posted"));
    co_await rs->commit();
    CHECK(w.take() == 2);  // the INSERT, and the commit's position read right after COMMIT
    token = rs.causal_token();
    CHECK_THAT(token, Catch::StartsWith(token_prefix()));

    auto mine = co_await rs->scalars(select<Line>().where(col(&Line::id) == 2));
    CHECK(mine.size() == 1);  // never stale: the replica has not replayed it
    CHECK(rs.router().last_route() == ext::Route::writer);
    CHECK(w.take() == 1);
    CHECK(r.take() == 1);  // the probe: a bounded wait (200 ms) that timed out
    CHECK(rs.router().replica_waits() == 1);
    CHECK(rs.router().replica_waits_timed_out() == 1);

    auto again = co_await rs->scalars(select<Line>());
    CHECK(again.size() == 2);
    CHECK(w.take() == 1);
    CHECK(r.take() == 0);  // one wait per position, not per read
    CHECK(rs.router().replica_waits() == 1);
    co_await rs->close();
  });

  // Another process: its own engines and pair, handed the token by the client.
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine writer = create_async_engine(ex, db.url);
    AsyncEngine reader = create_async_engine(ex, replica);
    Queries w(writer), r(reader);
    ext::AsyncEnginePair other(writer, reader, ext::ReadYourWrites{100ms});
    ext::AsyncRoutingSession next(other, token);
    auto lines = co_await next->scalars(select<Line>().order_by(col(&Line::id)));
    REQUIRE(lines.size() == 2);
    CHECK(lines[1]->label == "posted");
    CHECK(w.take() == 1);  // answered by the writer
    CHECK(r.take() == 1);  // after one probe that timed out
    CHECK(next.causal_token() == token);
    co_await next.session().close();

    // A session with no token reads the (stale) replica, as routing always did.
    ext::AsyncRoutingSession fresh(other);
    auto stale = co_await fresh->scalars(select<Line>());
    CHECK(stale.size() == 1);
    CHECK(r.take() == 1);
    CHECK(w.take() == 0);
    co_await fresh->close();
  });

  pause.resume();
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine writer = create_async_engine(ex, db.url);
    AsyncEngine reader = create_async_engine(ex, replica);
    Queries w(writer), r(reader);
    // Bounded, but far above what replay needs here, so the replica answers.
    ext::AsyncEnginePair patient(writer, reader, ext::ReadYourWrites{30s});
    ext::AsyncRoutingSession later(patient, token);
    auto lines = co_await later->scalars(select<Line>().order_by(col(&Line::id)));
    REQUIRE(lines.size() == 2);
    CHECK(later.router().last_route() == ext::Route::reader);
    CHECK(r.take() == 2);  // the probe (which waited for replay) and the read
    CHECK(w.take() == 0);
    CHECK(later.router().replica_waits() == 1);
    CHECK(later.router().replica_waits_timed_out() == 0);
    co_await later->close();

    // The pair now knows the replica has the position: a new session with the token costs no probe.
    ext::AsyncRoutingSession another(patient, token);
    auto same = co_await another->scalars(select<Line>());
    CHECK(same.size() == 2);
    CHECK(r.take() == 1);
    CHECK(w.take() == 0);
    CHECK(patient.replica()->stats().waits == 1);
    co_await another->close();
  });
}

TEST_CASE("read-your-writes (sync): a RoutingSession reads its commit from the writer while replay is paused, a "
          "token hands the position to a new pair, a malformed token throws CausalTokenError",
          "[ext][routing][replica][ryw]") {
  ExtDb db;
  const std::string replica = replica_url(db);
  {
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Line>().values(Line{1, "before"}));
    c.commit();
  }
  catch_up(replica, 1);
  Engine writer = create_engine(db.url);
  Engine reader = create_engine(replica);
  Queries w(writer), r(reader);
  ext::EnginePair pair(writer, reader, ext::ReadYourWrites{100ms});
  std::string token;
  {
    ReplayPause pause(replica);
    ext::RoutingSession rs(pair);
    rs->add(line(2, "posted"));
    rs->commit();
    token = rs.causal_token();
    CHECK(w.take() == 2);  // INSERT + position
    rs->expire_all();
    auto lines = rs->scalars(select<Line>().order_by(col(&Line::id)));
    REQUIRE(lines.size() == 2);
    CHECK(w.take() == 1);
    CHECK(r.take() == 1);  // the probe
    CHECK(rs.router().last_route() == ext::Route::writer);
    rs->close();

    Engine writer2 = create_engine(db.url);
    Engine reader2 = create_engine(replica);
    ext::EnginePair other(writer2, reader2, ext::ReadYourWrites{0ms});  // check once, never wait
    ext::RoutingSession next(other, token);
    CHECK(next->scalars(select<Line>()).size() == 2);
    CHECK(next.router().last_route() == ext::Route::writer);
    next->close();
  }
  // Resumed: a session with the token waits (bounded) and reads from the replica.
  ext::EnginePair patient(writer, reader, ext::ReadYourWrites{30s});
  ext::RoutingSession later(patient, token);
  CHECK(later->scalars(select<Line>()).size() == 2);
  CHECK(later.router().last_route() == ext::Route::reader);
  later->close();

  const std::string malformed = test::is_postgres() ? "pg.nope" : "mariadb.nope";
  const std::string expected = test::is_postgres() ? "'pg.<hex LSN>', e.g. 'pg.3018CE0'"
                                                   : "'mariadb.<domain-server-sequence>[.…]', e.g. 'mariadb.0-1-42'";
  CHECK_THROWS_MATCHES(ext::RoutingSession(pair, malformed), ext::CausalTokenError,
                       Catch::Message("causal token '" + malformed + "' is malformed: expected " + expected +
                                      " (the string causal_token() returned, unchanged)"));
  const std::string foreign = test::is_postgres() ? "mariadb.0-1-42" : "pg.3018CE0";
  CHECK_THROWS_WITH(ext::RoutingSession(pair, foreign), Catch::Contains("a token only works with the database that "
                                                                        "issued it"));
}

TEST_CASE("read-your-writes off: reads after a commit go to the replica unchecked, no position is read",
          "[ext][routing][replica][ryw]") {
  ExtDb db;
  const std::string replica = replica_url(db);
  {
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Line>().values(Line{1, "before"}));
    c.commit();
  }
  catch_up(replica, 1);
  ReplayPause pause(replica);
  Engine writer = create_engine(db.url);
  Engine reader = create_engine(replica);
  Queries w(writer), r(reader);
  ext::RoutingSession rs(writer, reader, {}, ext::ReadYourWrites::off());
  rs->add(line(2, "posted"));
  rs->commit();
  CHECK(w.take() == 1);  // the INSERT only
  CHECK(rs.causal_token().empty());
  CHECK(rs->scalars(select<Line>()).size() == 1);  // stale, as documented for this mode
  CHECK(r.take() == 1);
  CHECK_THROWS_AS(rs.require("pg.1"), UsageError);
  rs->close();
}

#else  // SQLite

TEST_CASE("read-your-writes on SQLite: no replicas, so no positions, a causal token is refused",
          "[ext][routing][ryw]") {
  ExtDb db;
  Engine writer = create_engine(db.url);
  Engine reader = create_engine(db.url);
  Queries w(writer), r(reader);
  ext::RoutingSession rs(writer, reader);
  auto l = std::make_shared<Line>();
  l->id = 1;
  l->label = "one";
  rs->add(l);
  rs->commit();
  CHECK(w.take() == 1);  // no position read
  CHECK(rs.causal_token().empty());
  rs->expire_all();
  CHECK(rs->scalars(select<Line>()).size() == 1);
  CHECK(r.take() == 1);
  rs.require("");  // no token: nothing to do
  CHECK_THROWS_WITH(rs.require("pg.1"), Catch::StartsWith("SQLite has no replication positions"));
  rs->close();
}

#endif
