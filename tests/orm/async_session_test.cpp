// AsyncSession: the same core driven with co_await — eager loading, explicit load(),
// LazyLoadError on hidden I/O, batched flushes, and 32 coroutines x 50 locked increments.

#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "corm/orm/async_session.hpp"
#include "corm/orm/detail/session_access.hpp"
#include "orm/orm_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::orm_test;
using corm::test::OrmDb;
using corm::test::QueryCounter;
namespace asio = boost::asio;

TEST_CASE("async session: flush batches inserts, selectinload takes 2 queries, lazy access raises LazyLoadError",
          "[orm][async]") {
  OrmDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    {
      AsyncSession s(engine);
      for (int i = 0; i < 20; ++i) {
        auto a = std::make_shared<Author>();
        a->name = "a" + std::to_string(i);
        s.add(a);
        for (int k = 0; k < 3; ++k) {
          auto b = std::make_shared<Book>();
          b->title = "t" + std::to_string(k);
          a->books.push_back(b);
        }
      }
      co_await s.commit();
      // Every generated key came back (RETURNING through the batch) and reached the children.
      std::set<std::int64_t> ids;
      for (const auto& sp : corm::detail::SessionAccess::core(s).tracked()) {
        if (sp->ops != &orm::entity_ops<Book>()) continue;
        auto b = std::static_pointer_cast<Book>(sp->obj);
        CHECK(b->author_id != 0);
        ids.insert(b->id);
      }
      CHECK(ids.size() == 60);
      CHECK(ids.count(0) == 0);
      // Same-shaped INSERTs form one step per table: 20 authors + 60 books in two shapes.
      auto shapes = s.stats().shapes();
      REQUIRE(shapes.size() == 2);
      CHECK(shapes[0].count == 60);
      CHECK(shapes[1].count == 20);
      co_await s.close();
    }
    QueryCounter q(engine);
    AsyncSession s(engine);
    auto eager = co_await s.scalars(select<Author>(), selectinload(&Author::books));
    CHECK(q.take() == 2);
    REQUIRE(eager.size() == 20);
    std::size_t books = 0;
    for (auto& a : eager) books += a->books.size();
    CHECK(books == 60);

    for (auto& a : eager)
      for (auto& bk : a->books) CHECK(bk->author.get() == a);  // back_populates: no query, no error
    CHECK(q.take() == 0);
    co_await s.close();

    AsyncSession s2(engine);
    auto plain = co_await s2.scalars(select<Book>());
    CHECK(q.take() == 1);
    auto b = plain.front();
    try {
      (void)b->author.get();  // Book.author is lazy: no hidden I/O in a coroutine
      FAIL("expected LazyLoadError");
    } catch (const LazyLoadError& e) {
      CHECK_THAT(e.what(), Catch::Contains("orm_books.author") && Catch::Contains("selectinload") &&
                               Catch::Contains("session.load"));
    }
    co_await s2.load(b, &Book::author);
    CHECK(q.take() == 1);
    REQUIRE(b->author.get() != nullptr);
    CHECK(b->author->id == b->author_id);
    auto same = co_await s2.get<Author>(b->author_id);  // loaded by load(): in the identity map
    CHECK(same == b->author.get());
    CHECK(q.take() == 0);
    co_await s2.close();
  });
}

namespace {

asio::awaitable<void> increment_worker(AsyncEngine engine, int transactions) {
  for (int i = 0; i < transactions; ++i) {
    AsyncSession s(engine);
    auto tx = co_await s.begin();
    auto stmt = select<Counter>().order_by(col(&Counter::id)).with_for_update();
    auto rows = co_await s.scalars(std::move(stmt));
    for (auto& r : rows) r->value += 1;
    co_await tx.commit();
    co_await s.close();
  }
}

}  // namespace

TEST_CASE("32 coroutines x 50 transactions incrementing 4 rows under with_for_update give the exact sum",
          "[orm][async][concurrency]") {
  OrmDb db;
  {
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    for (std::int64_t id = 1; id <= 4; ++id) c.execute(insert<Counter>().values(Counter{id, 0}));
    c.commit();
  }
  asio::io_context io;
  EngineOptions opts;
  opts.pool.pool_size = 8;
  opts.pool.max_overflow = 0;
  AsyncEngine engine = create_async_engine(io.get_executor(), db.url, opts);
  std::vector<std::exception_ptr> errors;
  int finished = 0;
  auto strand = asio::make_strand(io);
  for (int w = 0; w < 32; ++w)
    asio::co_spawn(strand, increment_worker(engine, 50), [&](std::exception_ptr e) {
      ++finished;
      if (e) errors.push_back(e);
    });
  test::run_io(io);
  CHECK(finished == 32);
  for (auto& e : errors) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      FAIL_CHECK(ex.what());
    }
  }
  Engine e = create_engine(db.url);
  Connection c = e.connect();
  auto values = c.execute(select(col(&Counter::value)).order_by(col(&Counter::id))).scalars<std::int64_t>();
  REQUIRE(values.size() == 4);
  for (auto v : values) CHECK(v == 32 * 50);
}

TEST_CASE("an AsyncSession used by two coroutines at once raises UsageError", "[orm][async]") {
  OrmDb db;
  asio::io_context io;
  AsyncEngine engine = create_async_engine(io.get_executor(), db.url);
  AsyncSession s(engine);
  std::vector<std::string> errors;
  int ok = 0;
  auto use = [&]() -> asio::awaitable<void> {
    auto rows = co_await s.scalars(select<Author>());
    ++ok;
  };
  auto strand = asio::make_strand(io);
  for (int i = 0; i < 2; ++i)
    asio::co_spawn(strand, use(), [&](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const UsageError& u) {
        errors.emplace_back(u.what());
      }
    });
  test::run_io(io);
  CHECK(ok == 1);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors.front(), Catch::Contains("two coroutines"));
}
