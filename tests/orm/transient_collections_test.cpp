// An object you just made has no related rows: its Many<> is an empty, loaded collection and its
// One<> is loaded and null, so a graph can be built before any session sees it (as in
// SQLAlchemy). Only an object read from its row starts with its relationships unloaded.

#include <catch2/catch.hpp>

#include <memory>

#include "corm/orm/session.hpp"
#include "orm/orm_db.hpp"

using namespace corm;
using namespace corm::orm_test;
using corm::test::OrmDb;

TEST_CASE("a new object's collection takes push_back before the object is added to a session", "[orm][transient]") {
  OrmDb db;
  Engine engine = create_engine(db.url);
  auto a = std::make_shared<Author>();
  a->name = "Ann";
  CHECK(a->books.is_loaded());
  CHECK(a->books.empty());
  for (int i = 0; i < 3; ++i) {
    auto b = std::make_shared<Book>();
    b->title = "t" + std::to_string(i);
    CHECK(b->author.is_loaded());
    CHECK(b->author.get() == nullptr);
    a->books.push_back(b);  // no add() or `= {}` needed first
  }
  {
    Session s(engine);
    s.add(a);
    s.commit();
  }
  // Read back from the rows: relationships unloaded until loaded (lazily here, on the sync front).
  Session s(engine);
  auto loaded = s.scalars(select<Author>().where(col(&Author::name) == "Ann"));
  REQUIRE(loaded.size() == 1);
  CHECK_FALSE(loaded[0]->books.is_loaded());
  CHECK(loaded[0]->books.size() == 3);
  auto books = select<Book>().where(col(&Book::author_id) == loaded[0]->id);
  Connection c = engine.connect();
  // The core decode of a row leaves relationships unloaded too: a row says nothing of them.
  auto rows = c.execute(books);
  REQUIRE(rows.size() == 3);
  Book decoded = decltype(books)::decode(rows.at(0));
  CHECK_FALSE(decoded.author.is_loaded());
}
