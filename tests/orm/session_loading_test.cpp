// Loading through a Session: query counts per loader strategy (1,000 authors x 10 books), the
// identity map answering get() after a query, and the N+1 detector.

#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "corm/orm/session.hpp"
#include "orm/orm_db.hpp"

using namespace corm;
using namespace corm::orm_test;
using corm::test::OrmDb;
using corm::test::QueryCounter;

namespace {

// 1,000 authors with 10 books each, inserted with multi-row INSERTs (not through a session).
void seed_library(Engine& engine, int authors = 1000, int books_each = 10) {
  Connection c = engine.connect();
  std::vector<Author> as(static_cast<std::size_t>(authors));
  for (int i = 0; i < authors; ++i) as[static_cast<std::size_t>(i)].name = "author " + std::to_string(i);
  c.execute(insert<Author>().values(as));
  auto ids = c.execute(select(col(&Author::id)).order_by(col(&Author::id))).scalars<std::int64_t>();
  std::vector<Book> bs;
  for (std::int64_t id : ids) {
    for (int k = 0; k < books_each; ++k) {
      Book b;
      b.author_id = id;
      b.title = "book " + std::to_string(k);
      bs.push_back(std::move(b));
      if (bs.size() == 1000) {
        c.execute(insert<Book>().values(bs));
        bs.clear();
      }
    }
  }
  if (!bs.empty()) c.execute(insert<Book>().values(bs));
  c.commit();
}

struct LogCapture {
  std::shared_ptr<std::vector<std::string>> warnings = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<std::mutex> mu = std::make_shared<std::mutex>();
  LogSink sink() {
    return [w = warnings, m = mu](LogLevel level, std::string_view line) {
      std::lock_guard lock(*m);
      if (level == LogLevel::warning) w->emplace_back(line);
    };
  }
};

std::size_t total_books(const std::vector<std::shared_ptr<Author>>& authors) {
  std::size_t n = 0;
  for (const auto& a : authors) n += a->books.size();
  return n;
}

}  // namespace

TEST_CASE("lazy access to 1000 authors' books sends 1 + 1000 queries and trips the N+1 detector",
          "[orm][loading]") {
  OrmDb db;
  LogCapture log;
  EngineOptions opts;
  opts.log = log.sink();
  Engine engine = create_engine(db.url, opts);
  seed_library(engine);
  QueryCounter q(engine);
  Session s(engine);
  auto authors = s.scalars(select<Author>().order_by(col(&Author::id)));
  CHECK(q.take() == 1);
  CHECK(total_books(authors) == 10000);
  CHECK(q.take() == 1000);
  REQUIRE(log.warnings->size() == 1);
  CHECK_THAT(log.warnings->front(), Catch::Contains("N+1") && Catch::Contains("orm_authors.books") &&
                                        Catch::Contains("selectinload"));
  // Statistics group the 1000 lazy loads into one shape.
  auto shapes = s.stats().shapes();
  REQUIRE(shapes.size() == 2);
  CHECK(shapes[0].count == 1000);
  CHECK(shapes[0].lazy_count == 1000);
  CHECK(s.stats().statements() == 1001);
}

TEST_CASE("selectinload loads 1000 authors' books in 2 queries without an N+1 warning", "[orm][loading]") {
  OrmDb db;
  LogCapture log;
  EngineOptions opts;
  opts.log = log.sink();
  Engine engine = create_engine(db.url, opts);
  seed_library(engine);
  QueryCounter q(engine);
  Session s(engine);
  auto authors = s.scalars(select<Author>(), selectinload(&Author::books));
  CHECK(total_books(authors) == 10000);
  CHECK(q.take() == 2);
  CHECK(log.warnings->empty());
  // back_populates: each book's author is known from the collection that loaded it.
  std::size_t wired = 0;
  for (auto& a : authors)
    for (auto& b : a->books) wired += b->author.get() == a;
  CHECK(wired == 10000);
  CHECK(q.take() == 0);
  // The books are shared with the identity map: get() sends nothing.
  auto b = authors[5]->books[3];
  CHECK(s.get<Book>(b->id) == b);
  CHECK(q.take() == 0);
}

TEST_CASE("joinedload loads 1000 authors' books in 1 query with rows de-duplicated", "[orm][loading]") {
  OrmDb db;
  LogCapture log;
  EngineOptions opts;
  opts.log = log.sink();
  Engine engine = create_engine(db.url, opts);
  seed_library(engine);
  QueryCounter q(engine);
  Session s(engine);
  auto authors = s.scalars(select<Author>(), joinedload(&Author::books));
  CHECK(authors.size() == 1000);
  CHECK(total_books(authors) == 10000);
  CHECK(q.take() == 1);
  CHECK(log.warnings->empty());
}

TEST_CASE("nested selectinload loads authors, books and reviews in 3 queries", "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed_library(engine);
  {
    Connection c = engine.connect();
    auto book_ids = c.execute(select(col(&Book::id)).order_by(col(&Book::id)).limit(100)).scalars<std::int64_t>();
    std::vector<Review> rs;
    for (auto id : book_ids) rs.push_back(Review{0, id, 5});
    c.execute(insert<Review>().values(rs));
    c.commit();
  }
  QueryCounter q(engine);
  Session s(engine);
  auto authors = s.scalars(select<Author>(), selectinload(&Author::books).selectinload(&Book::reviews));
  std::size_t reviews = 0;
  for (auto& a : authors)
    for (auto& b : a->books) reviews += b->reviews.size();
  CHECK(reviews == 100);
  CHECK(q.take() == 3);
}

TEST_CASE("selectinload returns each collection in key order even when the rows arrive out of order",
          "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed_library(engine, 3, 4);
  {
    // Each author's first book is deleted and inserted again with its id: on PostgreSQL the row
    // and its index entry now sit after its siblings', so a read without ORDER BY — by sequential
    // or index scan — returns it last. (An UPDATE would not do: a HOT update keeps the index
    // entry where it was.)
    Connection c = engine.connect();
    auto firsts = c.execute(text("SELECT min(id) FROM orm_books GROUP BY author_id"), {}).scalars<std::int64_t>();
    for (std::int64_t id : firsts) {
      auto author = c.execute(text("SELECT author_id FROM orm_books WHERE id = :id"), {{"id", id}}).scalar_one<std::int64_t>();
      c.execute(text("DELETE FROM orm_books WHERE id = :id"), {{"id", id}});
      c.execute(text("INSERT INTO orm_books (id, author_id, title) VALUES (:id, :a, 'first!')"), {{"id", id}, {"a", author}});
    }
    c.commit();
    auto scanned = c.execute(select(col(&Book::id))).scalars<std::int64_t>();
    if (test::is_postgres()) CHECK_FALSE(std::is_sorted(scanned.begin(), scanned.end()));  // the control
  }
  QueryCounter q(engine);
  Session s(engine);
  auto authors = s.scalars(select<Author>().order_by(col(&Author::id)), selectinload(&Author::books));
  CHECK(q.take() == 2);
  REQUIRE(authors.size() == 3);
  for (auto& a : authors) {
    std::vector<std::int64_t> ids;
    for (auto& b : a->books) ids.push_back(b->id);
    CHECK(ids.size() == 4);
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(a->books[0]->title.ends_with("!"));
  }
}

TEST_CASE("get after a query answers from the identity map with no query", "[orm][identity]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed_library(engine, 5, 2);
  QueryCounter q(engine);
  Session s(engine);
  auto authors = s.scalars(select<Author>().where(col(&Author::name) == "author 3"));
  REQUIRE(authors.size() == 1);
  CHECK(q.take() == 1);
  auto again = s.get<Author>(authors[0]->id);
  CHECK(again == authors[0]);
  CHECK(q.take() == 0);
  // A second query returning the same row hands out the same object.
  auto all = s.scalars(select<Author>());
  CHECK(std::find(all.begin(), all.end(), authors[0]) != all.end());
  // many-to-one selectin finds parents already in the map: no query for them.
  q.take();
  auto books = s.scalars(select<Book>(), selectinload(&Book::author));
  CHECK(q.take() == 1);
  for (auto& b : books) CHECK(b->author.get()->id == b->author_id);
}

TEST_CASE("raiseload makes an unloaded read throw RaiseLoadError naming the attribute", "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed_library(engine, 2, 1);
  Session s(engine);
  auto authors = s.scalars(select<Author>(), raiseload(&Author::books));
  try {
    (void)authors[0]->books.size();
    FAIL("expected RaiseLoadError");
  } catch (const RaiseLoadError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_authors.books") && Catch::Contains("raiseload"));
  }
  auto books = s.scalars(select<Book>(), noload(&Book::author));
  CHECK(books[0]->author.get() == nullptr);
}

TEST_CASE("strict N+1 mode throws on repeated lazy loads", "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed_library(engine, 20, 1);
  SessionOptions o;
  o.strict_n_plus_one = true;
  o.n_plus_one_threshold = 5;
  Session s(engine, o);
  auto authors = s.scalars(select<Author>());
  CHECK_THROWS_AS(total_books(authors), NPlusOneError);
}

TEST_CASE("selectinload of a many-to-many relationship loads through the association table in 1 query",
          "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed_library(engine, 2, 2);
  {
    Connection c = engine.connect();
    c.execute(insert<Tag>().values(std::vector<Tag>{Tag{0, "x"}, Tag{0, "y"}}));
    auto tags = c.execute(select(col(&Tag::id)).order_by(col(&Tag::id))).scalars<std::int64_t>();
    auto books = c.execute(select(col(&Book::id)).order_by(col(&Book::id))).scalars<std::int64_t>();
    // book 0: x, y; book 1: y; the others none
    c.execute(insert<BookTag>().values(std::vector<BookTag>{{books[0], tags[0]}, {books[0], tags[1]}, {books[1], tags[1]}}));
    c.commit();
  }
  QueryCounter q(engine);
  Session s(engine);
  auto books = s.scalars(select<Book>().order_by(col(&Book::id)), selectinload(&Book::tags));
  CHECK(q.take() == 2);
  REQUIRE(books.size() == 4);
  CHECK(books[0]->tags.size() == 2);
  REQUIRE(books[1]->tags.size() == 1);
  CHECK(books[1]->tags[0]->label == "y");
  CHECK(books[1]->tags[0] == books[0]->tags[1]);  // one object per row
  CHECK(books[2]->tags.empty());
}

TEST_CASE("subqueryload loads 1000 authors' books in 2 queries and honours the parents' limit", "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed_library(engine);
  QueryCounter q(engine);
  Session s(engine);
  auto authors = s.scalars(select<Author>(), subqueryload(&Author::books));
  CHECK(total_books(authors) == 10000);
  CHECK(q.take() == 2);
  Session s2(engine);
  auto first = s2.scalars(select<Author>().order_by(col(&Author::id)).limit(10), subqueryload(&Author::books));
  REQUIRE(first.size() == 10);
  CHECK(total_books(first) == 100);
  CHECK(q.take() == 2);
}
