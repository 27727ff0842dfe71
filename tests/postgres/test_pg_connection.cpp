// PostgreSQL connection lifecycle: lost backends, pre-ping, statement cache, statement timeout.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include <thread>

#include "driver/postgres/pg_connection.hpp"
#include "support/test_db.hpp"

using namespace corm;
using namespace std::chrono_literals;

namespace {

void terminate_backend(Engine& admin, int pid) {
  auto c = admin.connect();
  CHECK(c.execute(text("SELECT pg_terminate_backend(:pid)"), {{"pid", pid}}).scalar_one<bool>());
  c.commit();
  // Termination is asynchronous: wait until the backend is really gone.
  for (int i = 0; i < 200; ++i) {
    auto n = c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {{"pid", pid}})
                 .scalar_one<std::int64_t>();
    c.rollback();
    if (n == 0) return;
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

TEST_CASE("pool_pre_ping replaces a connection whose backend was terminated", "[pool][preping]") {
  EngineOptions opts;
  opts.pool.pool_size = 1;
  opts.pool.pool_pre_ping = true;
  auto engine = create_engine(test::pg_url(), opts);
  auto admin = create_engine(test::pg_url());
  int pid = 0;
  {
    auto c = engine.connect();
    pid = c.backend_pid();
    c.execute(text("SELECT 1"), {});
  }
  terminate_backend(admin, pid);
  auto c = engine.connect();
  CHECK(c.execute(text("SELECT 1"), {}).scalar_one<int>() == 1);
  CHECK(c.backend_pid() != pid);
}

TEST_CASE("without pre-ping a terminated backend raises ConnectionLost once, then a fresh one serves", "[pool]") {
  EngineOptions opts;
  opts.pool.pool_size = 1;
  auto engine = create_engine(test::pg_url(), opts);
  auto admin = create_engine(test::pg_url());
  auto c = engine.connect();
  const int pid = c.backend_pid();
  c.execute(text("SELECT 1"), {});
  c.commit();
  terminate_backend(admin, pid);
  CHECK_THROWS_AS(c.execute(text("SELECT 1"), {}), ConnectionLost);
  // Outside a transaction the next statement simply uses a new connection.
  CHECK(c.execute(text("SELECT 2"), {}).scalar_one<int>() == 2);
  CHECK(c.backend_pid() != pid);
  CHECK(engine.pool_status().open == 1);
}

TEST_CASE("a connection lost inside a transaction keeps failing until rollback()", "[tx]") {
  auto engine = create_engine(test::pg_url());
  auto admin = create_engine(test::pg_url());
  auto c = engine.connect();
  auto t = quote_identifier(Dialect::postgresql, test::unique_name("lost"));
  c.execute_script("CREATE TABLE " + t + " (id int)");
  c.commit();
  c.execute(text("INSERT INTO " + t + " VALUES (1)"), {});
  terminate_backend(admin, c.backend_pid());
  CHECK_THROWS_AS(c.execute(text("SELECT 1"), {}), ConnectionLost);
  CHECK_THROWS_AS(c.execute(text("SELECT 1"), {}), ConnectionLost);
  CHECK_THROWS_AS(c.commit(), ConnectionLost);
  c.rollback();
  CHECK(c.execute(text("SELECT count(*) FROM " + t), {}).scalar_one<std::int64_t>() == 0);
}

TEST_CASE("the prepared-statement cache reuses statements, and size 0 turns it off", "[cache]") {
  for (std::size_t size : {std::size_t{0}, std::size_t{2}, std::size_t{256}}) {
    EngineOptions opts;
    opts.connect.statement_cache_size = size;
    auto engine = create_engine(test::pg_url(), opts);
    auto c = engine.connect();
    std::int64_t sum = 0;
    for (int i = 0; i < 20; ++i)
      sum += c.execute(text("SELECT :v + " + std::to_string(i % 5)), {{"v", i}}).scalar_one<std::int64_t>();
    CHECK(sum == 190 + 40);
    auto& pg = dynamic_cast<driver::postgres::PgConnection&>(c.driver_connection());
    CHECK(pg.cached_statements() == std::min<std::size_t>(size, 5));
    const auto server_side =
        c.execute(text("SELECT count(*) FROM pg_prepared_statements"), {}).scalar_one<std::int64_t>();
    if (size == 0) CHECK(server_side == 0);
    if (size == 2) CHECK(server_side <= 3);          // evicted statements are deallocated
    if (size == 256) CHECK(server_side == 5 + 1);    // the five, plus the count query itself
  }
}

TEST_CASE("the statement cache's bound holds on the server when statements fail inside a transaction", "[cache]") {
  EngineOptions opts;
  opts.connect.statement_cache_size = 4;
  auto engine = create_engine(test::pg_url(), opts);
  auto c = engine.connect();
  for (int i = 0; i < 60; ++i) {
    // Each round prepares a new statement (evicting an old one) whose execution fails, then sends
    // another new statement into the aborted transaction, where its DEALLOCATE is refused.
    CHECK_THROWS_AS(c.execute(text("SELECT 1 / (:v - :v) + " + std::to_string(i)), {{"v", i}}), DataError);
    CHECK_THROWS_WITH(c.execute(text("SELECT :v + " + std::to_string(1000 + i)), {{"v", i}}),
                      Catch::Contains("the transaction is aborted"));
    c.rollback();
  }
  auto& pg = dynamic_cast<driver::postgres::PgConnection&>(c.driver_connection());
  CHECK(pg.cached_statements() <= 4);
  // The count query itself is a new statement: the cache's 4, its own PREPARE, and at most the
  // one eviction whose DEALLOCATE travels ahead of the next statement.
  const auto server_side =
      c.execute(text("SELECT count(*) FROM pg_prepared_statements"), {}).scalar_one<std::int64_t>();
  CHECK(server_side <= 4 + 1);
}

TEST_CASE("statement_timeout raises QueryCanceled and the connection stays usable", "[timeout]") {
  EngineOptions opts;
  opts.connect.statement_timeout = 200ms;
  auto engine = create_engine(test::pg_url(), opts);
  auto c = engine.connect();
  CHECK_THROWS_AS(c.execute(text("SELECT pg_sleep(5)"), {}), QueryCanceled);
  c.rollback();
  CHECK(c.execute(text("SELECT 1"), {}).scalar_one<int>() == 1);
}

TEST_CASE("a URL's password reaches libpq but never a message", "[config]") {
  // The test server trusts loopback, so the password is ignored by the server but still parsed.
  auto url = Url::parse(test::pg_url());
  std::string with_pw = "postgresql://" + (url.username().empty() ? std::string("postgres") : url.username()) +
                        ":s3cret@" + url.host() + ":" + std::to_string(url.port().value_or(5432)) + "/" +
                        url.database();
  auto engine = create_engine(with_pw);
  CHECK(engine.url().str().find("s3cret") == std::string::npos);
  CHECK(engine.connect().execute(text("SELECT 1"), {}).scalar_one<int>() == 1);
  auto bad = create_engine("postgresql://nobody:s3cret@127.0.0.1:1/db");
  try {
    (void)bad.connect();
    FAIL("port 1 must refuse");
  } catch (const ConnectError& e) {
    CHECK_THAT(std::string(e.what()), !Catch::Contains("s3cret") && Catch::Contains("127.0.0.1"));
  }
}
