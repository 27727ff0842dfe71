// Relationships through a Session: many-to-many collections written by the flush and loaded by
// every strategy, nested joinedload / subqueryload chains and mixed chains (query counts and
// de-duplication), loader options attached to the statement, composite-key get(), and
// back_populates kept in line at flush.

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

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

// `authors` authors with `books_each` books each; the first `reviewed` books (by id) get one
// review each.
void seed(Engine& engine, int authors, int books_each, int reviewed) {
  Connection c = engine.connect();
  std::vector<Author> as(static_cast<std::size_t>(authors));
  for (int i = 0; i < authors; ++i) as[static_cast<std::size_t>(i)].name = "author " + std::to_string(i);
  c.execute(insert<Author>().values(as));
  auto ids = c.execute(select(col(&Author::id)).order_by(col(&Author::id))).scalars<std::int64_t>();
  std::vector<Book> bs;
  for (std::int64_t id : ids)
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
  if (!bs.empty()) c.execute(insert<Book>().values(bs));
  if (reviewed > 0) {
    auto book_ids = c.execute(select(col(&Book::id)).order_by(col(&Book::id)).limit(reviewed)).scalars<std::int64_t>();
    std::vector<Review> rs;
    for (auto id : book_ids) rs.push_back(Review{0, id, 5});
    c.execute(insert<Review>().values(rs));
  }
  c.commit();
}

struct LogCapture {
  std::shared_ptr<std::vector<std::string>> warnings = std::make_shared<std::vector<std::string>>();
  LogSink sink() {
    return [w = warnings](LogLevel level, std::string_view line) {
      if (level == LogLevel::warning) w->emplace_back(line);
    };
  }
};

std::int64_t count_rows(Engine& e, std::string_view table) {
  Connection c = e.connect();
  return c.exec_driver_sql("SELECT count(*) FROM " + std::string(table)).scalar_one<std::int64_t>();
}

// Every collection of the graph holds distinct objects (joined rows were de-duplicated).
template <class T>
bool distinct(const Many<T>& m) {
  std::set<const T*> seen;
  for (const auto& p : m) seen.insert(p.get());
  return seen.size() == m.size();
}

struct Totals {
  std::size_t books = 0, reviews = 0;
  bool distinct = true;
};
Totals totals(const std::vector<std::shared_ptr<Author>>& authors) {
  Totals t;
  for (const auto& a : authors) {
    t.books += a->books.size();
    t.distinct = t.distinct && distinct(a->books);
    for (const auto& b : a->books) {
      t.reviews += b->reviews.size();
      t.distinct = t.distinct && distinct(b->reviews);
    }
  }
  return t;
}

std::vector<std::int64_t> tag_rows(Engine& e, std::int64_t book_id) {
  Connection c = e.connect();
  return c.execute(select(col(&BookTag::tag_id)).where(col(&BookTag::book_id) == book_id).order_by(col(&BookTag::tag_id)))
      .scalars<std::int64_t>();
}

}  // namespace

TEST_CASE("appending to a many-to-many collection inserts the association row, removing deletes it",
          "[orm][many_to_many]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  std::int64_t book_id = 0, x_id = 0, y_id = 0;
  {
    Session s(engine);
    auto a = std::make_shared<Author>();
    a->name = "A";
    s.add(a);
    auto b = std::make_shared<Book>();
    b->title = "t";
    a->books.push_back(b);
    auto x = std::make_shared<Tag>(Tag{0, "x"});
    auto y = std::make_shared<Tag>(Tag{0, "y"});
    s.add(b);
    b->tags.push_back(x);  // new tags, new book: all keys are generated in the same flush
    b->tags.push_back(y);
    s.commit();
    book_id = b->id;
    x_id = x->id;
    y_id = y->id;
  }
  CHECK(tag_rows(engine, book_id) == std::vector<std::int64_t>{x_id, y_id});
  {
    QueryCounter q(engine);
    Session s(engine);
    auto b = s.get<Book>(book_id);
    REQUIRE(b->tags.size() == 2);  // lazy load through the association table
    CHECK(q.take() == 2);
    auto y = std::find_if(b->tags.begin(), b->tags.end(), [](const auto& t) { return t->label == "y"; });
    REQUIRE(y != b->tags.end());
    auto y_obj = *y;
    b->tags.remove(y_obj);
    s.commit();
    CHECK(q.take() == 1);  // one DELETE of the association row
  }
  CHECK(tag_rows(engine, book_id) == std::vector<std::int64_t>{x_id});
  CHECK(count_rows(engine, "orm_tags") == 2);  // the tag itself stays
  {
    // Re-adding an existing tag to an existing book: one INSERT, nothing else.
    QueryCounter q(engine);
    Session s(engine);
    auto books = s.scalars(select<Book>().where(col(&Book::id) == book_id).options(selectinload(&Book::tags)));
    auto y = s.get<Tag>(y_id);  // no longer linked: not loaded with the book's tags
    CHECK(q.take() == 3);
    books[0]->tags.push_back(y);
    s.flush();
    CHECK(q.take() == 1);
    s.commit();
  }
  CHECK(tag_rows(engine, book_id) == std::vector<std::int64_t>{x_id, y_id});
}

TEST_CASE("deleting an object deletes its many-to-many association rows", "[orm][many_to_many]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  std::int64_t book_id = 0;
  {
    Session s(engine);
    auto a = std::make_shared<Author>();
    a->name = "A";
    auto b = std::make_shared<Book>();
    b->author = a;
    s.add(b);
    b->tags = Many<Tag>::container{std::make_shared<Tag>(Tag{0, "x"}), std::make_shared<Tag>(Tag{0, "y"})};
    s.commit();
    book_id = b->id;
  }
  CHECK(count_rows(engine, "orm_book_tags") == 2);
  {
    Session s(engine);
    auto b = s.get<Book>(book_id);  // tags not loaded: the rows go by the book's key
    s.delete_(b);
    s.commit();
  }
  CHECK(count_rows(engine, "orm_book_tags") == 0);
  CHECK(count_rows(engine, "orm_books") == 0);
  CHECK(count_rows(engine, "orm_tags") == 2);
}

TEST_CASE("a many-to-many collection loads with lazy, selectin, joined and subquery strategies",
          "[orm][many_to_many][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed(engine, 2, 3, 0);
  {
    Session s(engine);
    auto books = s.scalars(select<Book>().order_by(col(&Book::id)));
    auto x = std::make_shared<Tag>(Tag{0, "x"});
    auto y = std::make_shared<Tag>(Tag{0, "y"});
    books[0]->tags.push_back(x);  // lazy load (empty), then append
    books[0]->tags.push_back(y);
    books[1]->tags.push_back(y);
    s.commit();
  }
  auto check = [](const std::vector<std::shared_ptr<Book>>& books) {
    REQUIRE(books.size() == 6);
    REQUIRE(books[0]->tags.size() == 2);
    REQUIRE(books[1]->tags.size() == 1);
    CHECK(books[1]->tags[0]->label == "y");
    // One object per row (a joined collection has no defined order).
    CHECK((books[1]->tags[0] == books[0]->tags[0] || books[1]->tags[0] == books[0]->tags[1]));
    for (std::size_t i = 2; i < books.size(); ++i) CHECK(books[i]->tags.empty());
  };
  QueryCounter q(engine);
  {
    Session s(engine);
    auto books = s.scalars(select<Book>().order_by(col(&Book::id)));
    for (auto& b : books) (void)b->tags.size();
    CHECK(q.take() == 1 + 6);
    check(books);
  }
  {
    Session s(engine);
    check(s.scalars(select<Book>().order_by(col(&Book::id)).options(selectinload(&Book::tags))));
    CHECK(q.take() == 2);
  }
  {
    Session s(engine);
    check(s.scalars(select<Book>().order_by(col(&Book::id)).options(joinedload(&Book::tags))));
    CHECK(q.take() == 1);
  }
  {
    Session s(engine);
    check(s.scalars(select<Book>().order_by(col(&Book::id)).options(subqueryload(&Book::tags))));
    CHECK(q.take() == 2);
  }
}

TEST_CASE("nested joinedload loads authors, books and reviews in 1 query, de-duplicated at every level",
          "[orm][loading]") {
  OrmDb db;
  LogCapture log;
  EngineOptions opts;
  opts.log = log.sink();
  Engine engine = create_engine(db.url, opts);
  seed(engine, 1000, 10, 100);
  QueryCounter q(engine);
  Session s(engine);
  auto authors = s.scalars(select<Author>().options(joinedload(&Author::books).joinedload(&Book::reviews)));
  CHECK(q.take() == 1);
  CHECK(authors.size() == 1000);
  Totals t = totals(authors);
  CHECK(t.books == 10000);
  CHECK(t.reviews == 100);
  CHECK(t.distinct);
  CHECK(q.take() == 0);
  CHECK(log.warnings->empty());
  // Every joined row went through the identity map.
  auto b = authors[3]->books[2];
  CHECK(s.get<Book>(b->id) == b);
  CHECK(b->author.get() == authors[3]);  // back_populates from the joined collection
  CHECK(q.take() == 0);
}

TEST_CASE("mixed chains: joinedload then selectinload and selectinload then joinedload take 2 queries",
          "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed(engine, 200, 5, 50);
  QueryCounter q(engine);
  {
    Session s(engine);
    auto authors = s.scalars(select<Author>(), joinedload(&Author::books).selectinload(&Book::reviews));
    CHECK(q.take() == 2);
    Totals t = totals(authors);
    CHECK(t.books == 1000);
    CHECK(t.reviews == 50);
    CHECK(t.distinct);
    CHECK(q.take() == 0);
  }
  {
    Session s(engine);
    auto authors = s.scalars(select<Author>().options(selectinload(&Author::books).joinedload(&Book::reviews)));
    CHECK(q.take() == 2);
    Totals t = totals(authors);
    CHECK(t.books == 1000);
    CHECK(t.reviews == 50);
    CHECK(t.distinct);
    CHECK(q.take() == 0);
  }
  {
    // Many-to-one, then a collection of it: book -> author joined, author -> books selectin.
    Session s(engine);
    auto books = s.scalars(select<Book>().where(col(&Book::id) <= std::int64_t{20}),
                           joinedload(&Book::author).selectinload(&Author::books));
    CHECK(q.take() == 2);
    for (auto& b : books) CHECK(b->author->books.size() == 5);
    CHECK(q.take() == 0);
  }
}

TEST_CASE("nested subqueryload embeds each level's query: 3 queries, parents' limit honoured", "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed(engine, 100, 10, 100);
  QueryCounter q(engine);
  {
    Session s(engine);
    auto authors = s.scalars(select<Author>().options(subqueryload(&Author::books).subqueryload(&Book::reviews)));
    CHECK(q.take() == 3);
    Totals t = totals(authors);
    CHECK(t.books == 1000);
    CHECK(t.reviews == 100);
    CHECK(q.take() == 0);
  }
  {
    // Authors 0..4 own books 1..50 (by id), the reviewed ones: 50 reviews.
    Session s(engine);
    auto authors = s.scalars(select<Author>().order_by(col(&Author::id)).limit(5),
                             subqueryload(&Author::books).subqueryload(&Book::reviews));
    CHECK(q.take() == 3);
    REQUIRE(authors.size() == 5);
    Totals t = totals(authors);
    CHECK(t.books == 50);
    CHECK(t.reviews == 50);
  }
  {
    // Below a joined level: the joined objects' query is derived from the parents' one.
    Session s(engine);
    auto books = s.scalars(select<Book>().where(col(&Book::id) <= std::int64_t{30}),
                           joinedload(&Book::author).subqueryload(&Author::books));
    CHECK(q.take() == 2);
    REQUIRE(books.size() == 30);
    for (auto& b : books) CHECK(b->author->books.size() == 10);
    CHECK(q.take() == 0);
  }
}

TEST_CASE("loader options ride on the select statement as well as after it", "[orm][loading]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed(engine, 10, 3, 30);
  QueryCounter q(engine);
  Session s(engine);
  auto stmt = select<Author>().where(col(&Author::name) != "nobody").options(selectinload(&Author::books));
  auto authors = s.scalars(stmt, selectinload(&Author::books).selectinload(&Book::reviews));
  CHECK(q.take() == 3);
  Totals t = totals(authors);
  CHECK(t.books == 30);
  CHECK(t.reviews == 30);
  CHECK(q.take() == 0);
  // The options do not change the SQL.
  CHECK(*stmt.compile(engine.dialect()).sql == *select<Author>().where(col(&Author::name) != "x").compile(engine.dialect()).sql);
}

TEST_CASE("get with a composite primary key: values in key order, a tuple, or a vector of values",
          "[orm][identity]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  seed(engine, 1, 2, 0);
  std::int64_t b1 = 0, b2 = 0, tag = 0;
  {
    Session s(engine);
    auto books = s.scalars(select<Book>().order_by(col(&Book::id)));
    auto x = std::make_shared<Tag>(Tag{0, "x"});
    books[0]->tags.push_back(x);
    books[1]->tags.push_back(x);
    s.commit();
    b1 = books[0]->id;
    b2 = books[1]->id;
    tag = x->id;
  }
  QueryCounter q(engine);
  Session s(engine);
  auto link = s.get<BookTag>(b1, tag);
  REQUIRE(link);
  CHECK(link->book_id == b1);
  CHECK(link->tag_id == tag);
  CHECK(q.take() == 1);
  CHECK(s.get<BookTag>(std::tuple{b1, tag}) == link);  // identity map: no query
  CHECK(s.get<BookTag>(std::vector<Value>{Value(b1), Value(tag)}) == link);
  CHECK(q.take() == 0);
  CHECK(s.get<BookTag>(std::pair{b2, tag})->book_id == b2);
  CHECK(s.get<BookTag>(b2, tag + 100) == nullptr);
  CHECK(q.take() == 2);
  try {
    (void)s.get<BookTag>(b1);
    FAIL("expected UsageError");
  } catch (const UsageError& e) {
    CHECK_THAT(e.what(), Catch::Contains("orm_book_tags") && Catch::Contains("book_id, tag_id") &&
                             Catch::Contains("1 value(s)"));
  }
  CHECK(q.take() == 0);
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine ae = create_async_engine(ex, db.url);
    AsyncSession as(ae);
    auto l = co_await as.get<BookTag>(b1, tag);
    REQUIRE(l);
    CHECK(l->tag_id == tag);
    auto again = co_await as.get<BookTag>(std::tuple{b1, tag});
    CHECK(again == l);
    co_await as.close();
  });
}

TEST_CASE("back_populates: an assignment joins the loaded collection, an append sets the to-one side, at flush",
          "[orm][back_populates]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  Session s(engine);
  auto a = std::make_shared<Author>();
  a->name = "A";
  auto b = std::make_shared<Author>();
  b->name = "B";
  s.add(a);
  s.add(b);
  auto book = std::make_shared<Book>();
  book->title = "t";
  a->books.push_back(book);  // collection side
  s.flush();
  CHECK(book->author.get() == a);
  CHECK(book->author_id == a->id);

  book->author = b;  // to-one side: moves the book between the loaded collections
  s.flush();
  CHECK(book->author_id == b->id);
  REQUIRE(b->books.size() == 1);
  CHECK(b->books[0] == book);
  CHECK(a->books.empty());
  s.commit();
  {
    Connection c = engine.connect();
    CHECK(c.execute(select(col(&Book::author_id)).where(col(&Book::id) == book->id)).scalar_one<std::int64_t>() == b->id);
  }

  // An unloaded collection is left alone: it sees the row when it is loaded.
  Session s2(engine);
  auto a2 = s2.get<Author>(a->id);
  auto book2 = s2.get<Book>(book->id);
  book2->author = a2;
  s2.commit();
  CHECK(book2->author_id == a2->id);
  REQUIRE(a2->books.size() == 1);  // lazy load
  CHECK(a2->books[0] == book2);
  // Removing from the collection clears the to-one side (the key is NOT NULL: moving it is the
  // supported change, see the unit of work tests).
  auto b2 = s2.get<Author>(b->id);
  a2->books.remove(book2);
  b2->books.push_back(book2);
  s2.commit();
  CHECK(book2->author.get() == b2);
  CHECK(book2->author_id == b2->id);
}

TEST_CASE("async session: expire_on_commit reloads on the next query, isolation level per session",
          "[orm][async][transactions]") {
  OrmDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    SessionOptions o;
    o.expire_on_commit = true;
    o.isolation_level = IsolationLevel::serializable;
    AsyncSession s(engine, o);
    AsyncConnection* conn = co_await s.connection();
    CHECK(conn->isolation_level() == IsolationLevel::serializable);
    auto a = std::make_shared<Author>();
    a->name = "one";
    s.add(a);
    co_await s.commit();
    {
      AsyncSession other(engine);
      auto same = co_await other.get<Author>(a->id);
      same->name = "two";
      co_await other.commit();
      co_await other.close();
    }
    CHECK(a->name == "one");  // members are not intercepted: the old value until a reload
    auto again = co_await s.get<Author>(a->id);  // expired at commit: goes to the database
    CHECK(again == a);
    CHECK(a->name == "two");
    co_await s.commit();
    co_await s.close();
  });
}
