// Read/write routing: which engine each statement went to, counted through each engine's
// events (the replica itself is tested in tests/ext_postgres and read_your_writes_test.cpp).
// Here both engines reach the same database, which is no replica, so read-your-writes is off:
// only the routing decision differs.

#include <catch2/catch.hpp>

#include <memory>

#include "corm/ext/routing.hpp"
#include "corm/orm/async_session.hpp"
#include "ext/ext_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::ext_test;
using corm::test::ExtDb;
using corm::test::Queries;
namespace asio = boost::asio;

TEST_CASE("routing: reads go to the reader until the transaction writes, flushes, FOR UPDATE and later reads go to "
          "the writer, a pin overrides",
          "[ext][routing]") {
  ExtDb db;
  {
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Line>().values(Line{1, "one"}));
    c.commit();
  }
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine writer = create_async_engine(ex, db.url);
    AsyncEngine reader = create_async_engine(ex, db.url);
    Queries w(writer), r(reader);
    ext::AsyncRoutingSession rs(writer, reader, {}, ext::ReadYourWrites::off());

    auto lines = co_await rs->scalars(select<Line>());
    CHECK(lines.size() == 1);
    CHECK(r.take() == 1);
    CHECK(w.take() == 0);
    CHECK(rs.router().last_route() == ext::Route::reader);

    auto l = std::make_shared<Line>();
    l->id = 2;
    l->label = "two";
    rs->add(l);
    auto again = co_await rs->scalars(select<Line>().order_by(col(&Line::id)));  // autoflush, then read
    CHECK(again.size() == 2);  // read-your-writes: the writer has the unflushed row
    CHECK(w.take() == 2);      // INSERT + SELECT
    CHECK(r.take() == 0);
    CHECK(rs.router().has_written());
    {
      auto pin = rs.use(ext::Route::reader);  // explicit: this read may be stale, and that is fine
      co_await rs->execute(select(col(&Line::id)).where(col(&Line::id) == 1));
      CHECK(r.take() == 1);
    }
    co_await rs->commit();
    CHECK_FALSE(rs.router().has_written());

    co_await rs->execute(select(col(&Line::id)));
    CHECK(r.take() == 1);
    co_await rs->scalars(select<Line>().with_for_update());
    CHECK(w.take() >= 1);  // locking read (SQLite adds its write-lock statement)
    CHECK(r.take() == 0);
    {
      auto pin = rs.use(ext::Route::writer);
      co_await rs->execute(select(col(&Line::id)));
      CHECK(w.take() == 1);
      CHECK(r.take() == 0);
    }
    co_await rs->rollback();
    co_await rs->execute(select(col(&Line::id)));
    CHECK(r.take() == 1);
    // Hand-written SQL may write: it goes to the writer.
    co_await rs->execute(text("UPDATE ext_lines SET label = 'x' WHERE id = 1"));
    CHECK(w.take() == 1);
    co_await rs->rollback();
    co_await rs->close();
  });
}

TEST_CASE("routing (sync): the same policy over a Session with one identity map for both engines", "[ext][routing]") {
  ExtDb db;
  Engine writer = create_engine(db.url);
  Engine reader = create_engine(db.url);
  Queries w(writer), r(reader);
  ext::RoutingSession rs(writer, reader, {}, ext::ReadYourWrites::off());
  auto l = std::make_shared<Line>();
  l->id = 1;
  l->label = "one";
  rs->add(l);
  rs->commit();
  CHECK(w.take() == 1);
  auto got = rs->get<Line>(std::int64_t{1});  // identity map: no query on either side
  CHECK(got == l);
  CHECK(r.take() + w.take() == 0);
  rs->expire_all();
  auto reloaded = rs->scalars(select<Line>());
  CHECK(r.take() == 1);
  REQUIRE(reloaded.size() == 1);
  CHECK(reloaded[0] == l);
  CHECK_THROWS_WITH(rs->set_router(reader, std::make_shared<ext::ReadWriteRouter>()),
                    Catch::Contains("already run statements"));
  rs->close();
}
