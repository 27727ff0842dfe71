// Select::yield_per through Session and AsyncSession: the rows come in slices (PostgreSQL: a
// server-side cursor) and build the same objects, through the same identity map, as a whole
// read — with eager loads after the last slice and autoflush before the first.

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "corm/orm/async_session.hpp"
#include "corm/orm/session.hpp"
#include "orm/orm_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::orm_test;
using corm::test::OrmDb;
using corm::test::QueryCounter;
namespace asio = boost::asio;

namespace {

// 25 authors named a00..a24, each with two books.
asio::awaitable<void> add_authors(AsyncEngine& engine) {
  AsyncSession s(engine);
  for (int i = 0; i < 25; ++i) {
    auto a = std::make_shared<Author>();
    a->name = (i < 10 ? "a0" : "a") + std::to_string(i);
    s.add(a);
    for (int k = 0; k < 2; ++k) {
      auto b = std::make_shared<Book>();
      b->title = a->name + "-b" + std::to_string(k);
      a->books.push_back(b);
    }
  }
  co_await s.commit();
  co_await s.close();
}

std::vector<std::string> names(const std::vector<std::shared_ptr<Author>>& authors) {
  std::vector<std::string> out;
  for (const auto& a : authors) out.push_back(a->name);
  return out;
}

}  // namespace

TEST_CASE("async session: yield_per reads in slices into the same objects as a whole read", "[orm][async]") {
  OrmDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    co_await add_authors(engine);
    QueryCounter q(engine);

    AsyncSession s(engine);
    auto by_name = select<Author>().order_by(col(&Author::name));
    auto sliced = co_await s.scalars(by_name.yield_per(4));
    CHECK(q.take() == 1);  // one statement, however many FETCHes
    if (test::is_postgres()) {
      // The server's view of the session's connection: the last thing it ran was the cursor's
      // CLOSE, not the SELECT.
      const int pid = (co_await s.connection())->backend_pid();
      auto other = co_await engine.connect();
      auto last = co_await other.execute(
          text("SELECT query FROM pg_stat_activity WHERE pid = :pid").bind("pid", std::int64_t{pid}));
      CHECK(last.scalar_one<std::string>().rfind("CLOSE corm_cursor_", 0) == 0);
      co_await other.close();
      CHECK(q.take() == 1);
    }
    REQUIRE(sliced.size() == 25);
    CHECK(sliced.front()->name == "a00");
    CHECK(sliced.back()->name == "a24");
    // The same rows read whole map to the very same objects: one identity map.
    auto whole = co_await s.scalars(by_name);
    CHECK(q.take() == 1);
    REQUIRE(whole.size() == 25);
    for (std::size_t i = 0; i < whole.size(); ++i) CHECK(whole[i].get() == sliced[i].get());
    co_await s.close();

    // Eager loads run after the last slice, for the objects of every slice.
    AsyncSession s2(engine);
    auto eager = co_await s2.scalars(by_name.yield_per(3), selectinload(&Author::books));
    CHECK(q.take() == 2);
    REQUIRE(eager.size() == 25);
    for (const auto& a : eager) {
      REQUIRE(a->books.size() == 2);
      CHECK(a->books[0]->title.rfind(a->name + "-b", 0) == 0);
    }
    co_await s2.close();

    // joinedload repeats an author on consecutive rows, across slice boundaries too: still
    // one object per author, with both books.
    AsyncSession s3(engine);
    auto joined = co_await s3.scalars(by_name.yield_per(3), joinedload(&Author::books));
    CHECK(q.take() == 1);
    CHECK(names(joined) == names(eager));
    for (const auto& a : joined) CHECK(a->books.size() == 2);
    co_await s3.close();
  });
}

TEST_CASE("async session: yield_per autoflushes first and reads inside the session's transaction", "[orm][async]") {
  OrmDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    co_await add_authors(engine);
    AsyncSession s(engine);
    auto pending = std::make_shared<Author>();
    pending->name = "zz-pending";
    s.add(pending);
    auto all = co_await s.scalars(select<Author>().order_by(col(&Author::name)).yield_per(5));
    REQUIRE(all.size() == 26);  // the flushed, uncommitted author is in the read
    CHECK(all.back().get() == pending.get());
    co_await s.rollback();  // and it goes with the transaction
    co_await s.close();

    AsyncSession check(engine);
    auto after = co_await check.scalars(select<Author>().yield_per(10));
    CHECK(after.size() == 25);
    co_await check.close();
  });
}

TEST_CASE("session: yield_per on the sync front — slices, one statement, eager loads, a failure part way",
          "[orm]") {
  OrmDb db;
  {
    Engine engine = create_engine(db.url);
    Session s(engine);
    for (int i = 0; i < 25; ++i) {
      auto a = std::make_shared<Author>();
      a->name = (i < 10 ? "a0" : "a") + std::to_string(i);
      s.add(a);
      auto b = std::make_shared<Book>();
      b->title = a->name + "-b";
      a->books.push_back(b);
    }
    s.commit();
  }
  Engine engine = create_engine(db.url);
  QueryCounter q(engine);
  Session s(engine);
  auto by_name = select<Author>().order_by(col(&Author::name));
  auto sliced = s.scalars(by_name.yield_per(4), selectinload(&Author::books));
  CHECK(q.take() == 2);
  REQUIRE(sliced.size() == 25);
  CHECK(sliced.front()->name == "a00");
  CHECK(sliced.back()->name == "a24");
  for (const auto& a : sliced) CHECK(a->books.size() == 1);
  auto whole = s.scalars(by_name);
  REQUIRE(whole.size() == 25);
  for (std::size_t i = 0; i < whole.size(); ++i) CHECK(whole[i].get() == sliced[i].get());
  s.close();

  if (!test::is_postgres()) return;  // SQLite and MySQL read the whole result first: nothing can fail part way
  // A row that cannot be read fails the query after the slices before it: the error names the
  // problem and the session is rolled back like after any failed statement.
  Session bad(engine);
  std::size_t rows = 0;
  std::string error;
  try {
    // No ORDER BY: a sort would compute every row before the first FETCH returns. The rows were
    // inserted in id order, and a sequential scan reads them so.
    bad.connection().stream(text("SELECT 10 / (id - 20) FROM orm_authors").compile(Dialect::postgresql), 8,
                            [&](Result slice) { rows += slice.size(); });
  } catch (const DataError& e) {
    error = e.what();
  }
  CHECK(error.find("division by zero") != std::string::npos);
  CHECK(rows == 16);  // two slices of 8 arrived before the FETCH that reached id 20
  bad.rollback();
  CHECK(bad.scalars(select<Author>().yield_per(100)).size() == 25);
  bad.close();
}
