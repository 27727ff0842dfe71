// EngineOptions::defer_begin_past_reads on a real server: at READ COMMITTED a transaction's
// plain reads run before its BEGIN reaches the server (the backend stays `idle`, not `idle in
// transaction`), the first write or lock takes the BEGIN with it, and rollback still undoes the
// write. Anything else — a locking read, text(), a stricter level set on the engine, the
// connection or the server, or the option off — begins before the first read as always.
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>
#include <corm/corm.hpp>
#include <corm/orm/async_session.hpp>
#include <corm/orm/session.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "orm/orm_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::orm_test;
using corm::test::OrmDb;
namespace asio = boost::asio;

namespace {

/// The state pg_stat_activity shows for the one backend named `app` ("idle", "idle in
/// transaction", ...), read from a separate connection.
std::string backend_state(const std::string& app) {
  Engine admin = create_engine(test::pg_url());
  Connection c = admin.connect();
  auto states = c.execute(text("SELECT state FROM pg_stat_activity WHERE application_name = :app"), {{"app", app}})
                    .scalars<std::string>();
  c.rollback();
  REQUIRE(states.size() == 1);
  return states.front();
}

struct Setup {
  OrmDb db;
  std::string app = test::unique_name("lazy_begin");
  EngineOptions opts;
  std::string url = db.url;
  Setup() {
    opts.connect.application_name = app;
    opts.pool.pool_size = 1;
    opts.pool.max_overflow = 0;
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Author>().values(Author{1, "Kim", {}}));
    c.commit();
  }
};

std::int64_t authors_named(const std::string& url, const std::string& name) {
  Engine e = create_engine(url);
  Connection c = e.connect();
  return c.execute(select(count()).select_from<Author>().where(col(&Author::name) == name)).scalar_one<std::int64_t>();
}

}  // namespace

TEST_CASE("a session's reads at READ COMMITTED leave the backend idle, and its first write begins", "[lazy_begin]") {
  Setup t;
  Engine engine = create_engine(t.url, t.opts);
  Session s(engine);
  auto kim = s.get<Author>(std::int64_t{1});
  REQUIRE(kim);
  auto all = s.scalars(select<Author>().where(col(&Author::id) > 0).order_by(col(&Author::id)));
  CHECK(all.size() == 1);
  CHECK(backend_state(t.app) == "idle");  // no BEGIN reached the server

  auto lee = std::make_shared<Author>();
  lee->id = 2;
  lee->name = "Lee";
  s.add(lee);
  s.flush();
  CHECK(backend_state(t.app) == "idle in transaction");  // the INSERT took the BEGIN with it
  s.rollback();
  CHECK(authors_named(t.url, "Lee") == 0);  // and the transaction is real: nothing persisted
  CHECK(backend_state(t.app) == "idle");
  s.close();
}

TEST_CASE("locking reads, text() and stricter levels begin before the first read", "[lazy_begin]") {
  Setup t;
  SECTION("a locking read") {
    Engine engine = create_engine(t.url, t.opts);
    Session s(engine);
    auto rows = s.scalars(select<Author>().where(col(&Author::id) == 1).with_for_update());
    CHECK(rows.size() == 1);
    CHECK(backend_state(t.app) == "idle in transaction");
  }
  SECTION("text(), which may say anything") {
    Engine engine = create_engine(t.url, t.opts);
    Connection c = engine.connect();
    CHECK(c.execute(text("SELECT 1")).scalar_one<int>() == 1);
    CHECK(backend_state(t.app) == "idle in transaction");
  }
  SECTION("a function that is not a known built-in") {
    Engine engine = create_engine(t.url, t.opts);
    Connection c = engine.connect();
    CHECK(c.execute(select(func<std::int64_t>("txid_current"))).scalar_one<std::int64_t>() > 0);
    CHECK(backend_state(t.app) == "idle in transaction");
  }
  SECTION("REPEATABLE READ on the engine") {
    t.opts.isolation_level = IsolationLevel::repeatable_read;
    Engine engine = create_engine(t.url, t.opts);
    Session s(engine);
    CHECK(s.get<Author>(std::int64_t{1}));
    CHECK(backend_state(t.app) == "idle in transaction");
  }
  SECTION("SERIALIZABLE on the connection") {
    Engine engine = create_engine(t.url, t.opts);
    Connection c = engine.connect();
    c.set_isolation_level(IsolationLevel::serializable);
    CHECK(c.execute(select<Author>()).all().size() == 1);
    CHECK(backend_state(t.app) == "idle in transaction");
  }
  SECTION("a server whose default_transaction_isolation is stricter") {
    const std::string url = Url::parse(t.url)
                                .with_query("options", "-c search_path=" + t.db.schema +
                                                           " -c default_transaction_isolation=repeatable\\ read")
                                .str();
    Engine engine = create_engine(url, t.opts);
    Session s(engine);
    CHECK(s.get<Author>(std::int64_t{1}));
    CHECK(backend_state(t.app) == "idle in transaction");
  }
  SECTION("the option off") {
    t.opts.defer_begin_past_reads = false;
    Engine engine = create_engine(t.url, t.opts);
    Session s(engine);
    CHECK(s.get<Author>(std::int64_t{1}));
    CHECK(backend_state(t.app) == "idle in transaction");
  }
}

TEST_CASE("async: reads leave the backend idle, the first write begins, rollback undoes it", "[lazy_begin][async]") {
  Setup t;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, t.url, t.opts);
    {
      AsyncSession s(engine);
      auto kim = co_await s.get<Author>(std::int64_t{1});
      CHECK(kim);
      CHECK(backend_state(t.app) == "idle");
      auto lee = std::make_shared<Author>();
      lee->id = 2;
      lee->name = "Lee";
      s.add(lee);
      co_await s.flush();
      CHECK(backend_state(t.app) == "idle in transaction");
      co_await s.rollback();
      CHECK(authors_named(t.url, "Lee") == 0);
      co_await s.close();
    }
    {
      // A locking read begins; close() ends that transaction on the server.
      AsyncSession s(engine);
      auto rows = co_await s.scalars(select<Author>().where(col(&Author::id) == 1).with_for_update());
      CHECK(rows.size() == 1);
      CHECK(backend_state(t.app) == "idle in transaction");
      co_await s.close();
    }
    CHECK(backend_state(t.app) == "idle");
    auto c = co_await engine.connect();
    auto r = co_await c.execute(select<Author>());
    CHECK(r.all().size() == 1);
    CHECK(backend_state(t.app) == "idle");
    co_await c.close();
  });
}
