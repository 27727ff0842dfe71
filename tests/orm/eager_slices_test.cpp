// Selectin loads for many parents read in slices (SessionOptions::eager_yield_per): on PostgreSQL
// their rows come through a server-side cursor and each slice becomes objects as it arrives. The
// objects, collections and their order must be exactly those of a whole read — across slice
// boundaries, for one-to-many, many-to-many and joined rows below the load — with the same
// statements counted. SQLite reads whole whatever the option says.

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

constexpr int authors_n = 150;  // above LoadPlan::eager_slice_min_parents

// Author i ("a000".."a149") has i % 4 books; book k of author i has (i + k) % 3 of the five
// tags and k reviews of (i % 5) + 1 stars. Books are inserted round-robin across authors, so an
// author's books are far apart in id order and in the server's row order.
void seed(Engine& engine) {
  Session s(engine);
  std::vector<std::shared_ptr<Tag>> tags;
  for (int t = 0; t < 5; ++t) {
    auto tag = std::make_shared<Tag>();
    tag->label = "t" + std::to_string(t);
    s.add(tag);
    tags.push_back(tag);
  }
  std::vector<std::shared_ptr<Author>> authors;
  for (int i = 0; i < authors_n; ++i) {
    auto a = std::make_shared<Author>();
    std::string n = std::to_string(i);
    a->name = "a" + std::string(3 - n.size(), '0') + n;
    s.add(a);
    authors.push_back(a);
  }
  s.flush();
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < authors_n; ++i) {
      if (k >= i % 4) continue;
      const auto& a = authors[static_cast<std::size_t>(i)];
      auto b = std::make_shared<Book>();
      b->title = a->name + "-b" + std::to_string(k);
      b->author_id = a->id;
      s.add(b);  // pending: its collections start empty
      for (int t = 0; t < (i + k) % 3; ++t) b->tags.push_back(tags[static_cast<std::size_t>((i + t) % 5)]);
      for (int r = 0; r < k; ++r) {
        auto rv = std::make_shared<Review>();
        rv->stars = i % 5 + 1;
        b->reviews.push_back(rv);
      }
    }
  s.commit();
  s.close();
}

// Everything a load built, as text: each author's books in collection order, each book's tags
// (when loaded) and reviews.
std::string describe(const std::vector<std::shared_ptr<Author>>& authors, bool tags = true) {
  std::string out;
  for (const auto& a : authors) {
    out += a->name + ":";
    for (const auto& b : a->books) {
      out += " " + b->title + "[";
      if (tags)
        for (const auto& t : b->tags) out += t->label + ",";
      out += "|";
      for (const auto& r : b->reviews) out += std::to_string(r->stars);
      out += "]";
    }
    out += "\n";
  }
  return out;
}

std::size_t book_count(const std::vector<std::shared_ptr<Author>>& authors) {
  std::size_t n = 0;
  for (const auto& a : authors) n += a->books.size();
  return n;
}

SessionOptions slices_of(std::size_t rows) {
  SessionOptions o;
  o.eager_yield_per = rows;
  return o;
}

}  // namespace

TEST_CASE("session: selectin loads of many parents read in slices build what a whole read builds", "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed(engine);
  QueryCounter q(engine);
  auto query = select<Author>().order_by(col(&Author::name));
  auto books_below = selectinload(&Author::books).selectinload(&Book::tags);
  auto reviews_below = selectinload(&Author::books).selectinload(&Book::reviews);

  Session whole(engine, slices_of(0));
  auto expected = whole.scalars(query, books_below, reviews_below);
  CHECK(q.take() == 4);  // authors, books, tags, reviews
  REQUIRE(expected.size() == authors_n);
  CHECK(book_count(expected) == 223);

  // Slices of 7: every one-to-many collection and many-to-many association spans slices.
  Session sliced(engine, slices_of(7));
  auto got = sliced.scalars(query, books_below, reviews_below);
  CHECK(q.take() == 4);  // a read in slices is one statement, however many FETCHes
  CHECK(describe(got) == describe(expected));
  // The same session's identity map holds every object once: a whole read of the books finds them.
  auto books = sliced.scalars(select<Book>().order_by(col(&Book::id)));
  REQUIRE(books.size() == 223);
  std::size_t same = 0;
  for (const auto& a : got)
    for (const auto& b : a->books) same += sliced.get<Book>(b->id) == b;
  CHECK(same == 223);
  if (test::is_postgres()) {
    // The server's view of a fresh session: the relationship load's rows came through a cursor,
    // and a query whose objects need no load below them is an ordinary statement.
    Session fresh(engine, slices_of(7));
    Connection other = engine.connect();
    const int pid = fresh.connection().backend_pid();
    // The server takes one snapshot of pg_stat_activity per transaction: each read ends its own.
    auto last_of = [&](int backend) {
      auto query_text = other.execute(text("SELECT query FROM pg_stat_activity WHERE pid = :pid").bind("pid", std::int64_t{backend}))
                   .scalar_one<std::string>();
      other.rollback();
      return query_text;
    };
    auto last = [&] { return last_of(pid); };
    fresh.scalars(query, selectinload(&Author::books));
    CHECK(last().rfind("CLOSE corm_cursor_", 0) == 0);
    fresh.scalars(select<Book>().order_by(col(&Book::id)));
    CHECK(last().rfind("SELECT", 0) == 0);
    // Fewer parents than eager_slice_min_parents: read whole.
    Session few(engine, slices_of(7));
    few.scalars(select<Author>().order_by(col(&Author::name)).limit(10), selectinload(&Author::books));
    const int few_pid = few.connection().backend_pid();
    const std::string few_last = last_of(few_pid);
    CHECK(few_last.find("orm_books") != std::string::npos);
    CHECK(few_last.rfind("SELECT", 0) == 0);
    few.close();
    fresh.close();
    other.close();
  }
  sliced.close();
  whole.close();
}

TEST_CASE("async session: selectin loads read in slices, with joined rows below them and autoflush first",
          "[orm][async]") {
  OrmDb db;
  {
    Engine engine = create_engine(db.url);
    seed(engine);
  }
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    QueryCounter q(engine);
    auto query = select<Author>().order_by(col(&Author::name));
    // joinedload below the selectin load: the books' rows repeat a book once per review, and
    // those repeats cross slice boundaries.
    auto opts = selectinload(&Author::books).joinedload(&Book::reviews);

    AsyncSession whole(engine, slices_of(0));
    auto expected = co_await whole.scalars(query, opts);
    CHECK(q.take() == 2);
    co_await whole.close();

    AsyncSession sliced(engine, slices_of(5));
    // A book added before the query is flushed first, and its author's collection holds it.
    auto first = co_await sliced.scalars(select<Author>().order_by(col(&Author::name)).limit(1));
    REQUIRE(first.size() == 1);
    auto extra = std::make_shared<Book>();
    extra->title = "a000-extra";
    extra->author_id = first.front()->id;
    sliced.add(extra);
    q.take();
    auto got = co_await sliced.scalars(query, opts);
    CHECK(q.take() == 3);  // the INSERT, the authors, their books with reviews
    REQUIRE(got.size() == authors_n);
    REQUIRE(got.front()->books.size() == 1);
    CHECK(got.front()->books[0] == extra);
    std::string want = describe(expected, false);
    REQUIRE(want.rfind("a000:\n", 0) == 0);  // author 0 had no books
    want.replace(0, 6, "a000: a000-extra[|]\n");
    CHECK(describe(got, false) == want);
    co_await sliced.rollback();
    co_await sliced.close();

    AsyncSession check(engine);
    auto after = co_await check.scalars(select<Book>());
    CHECK(after.size() == 223);  // the extra book went with the rollback
    co_await check.close();
  });
}
