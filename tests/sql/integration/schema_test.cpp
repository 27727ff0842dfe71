// create_all, introspection and drop_all against the real database.

#include <catch2/catch.hpp>

#include "corm/sql/schema/inspect.hpp"
#include "sql/integration/sql_db.hpp"

using namespace corm;
using corm::test::SqlDb;

TEST_CASE("create_all then introspection gives back the declared schema", "[sql][integration][schema]") {
  SqlDb db;
  Dialect d = db.conn.dialect();
  std::vector<std::string> names;
  for (const TableInfo* t : db.metadata.tables()) names.push_back(t->name);
  std::vector<TableSchema> found = inspect(db.conn, names);
  std::vector<TableSchema> declared = db.metadata.schema(d);
  REQUIRE(found.size() == declared.size());
  for (std::size_t i = 0; i < declared.size(); ++i) {
    INFO("declared:\n" << describe(declared[i]) << "found:\n" << describe(found[i]));
    CHECK(found[i] == declared[i]);
  }
  // Spot checks of what the comparison covers.
  const TableSchema& books = *std::find_if(found.begin(), found.end(), [](const TableSchema& t) { return t.name == "books"; });
  REQUIRE(books.indexes.size() == 1);
  CHECK(books.indexes[0].columns == std::vector<std::string>{"author_id", "title"});
  if (d == Dialect::postgresql) {
    CHECK(books.indexes[0].include == std::vector<std::string>{"pages"});
    REQUIRE(books.checks.size() == 1);
    CHECK(books.checks[0].name == "ck_books_pages");
  }
  REQUIRE(books.foreign_keys.size() == 1);
  CHECK(books.foreign_keys[0].on_delete == FkAction::cascade);
  CHECK(books.uniques.at(0).columns == std::vector<std::string>{"author_id", "title"});
  db.conn.commit();
}

TEST_CASE("create_all is re-runnable and drop_all removes every table", "[sql][integration][schema]") {
  SqlDb db;
  db.metadata.create_all(db.conn);  // IF NOT EXISTS: no error
  db.conn.commit();
  db.metadata.drop_all(db.conn);
  db.conn.commit();
  std::vector<std::string> names;
  for (const TableInfo* t : db.metadata.tables()) names.push_back(t->name);
  CHECK(inspect(db.conn, names).empty());
}

TEST_CASE("the foreign keys created are enforced", "[sql][integration][schema]") {
  SqlDb db;
  using namespace corm::test_models;
  CHECK_THROWS_AS(db.conn.execute(insert<Book>().values(set(&Book::author_id, 999999), set(&Book::title, "x"))),
                  IntegrityError);
  db.conn.rollback();
  auto ids = db.all(insert<Author>().values(set(&Author::name, "A")).returning(col(&Author::id)));
  db.conn.execute(insert<Book>().values(set(&Book::author_id, std::get<0>(ids.at(0))), set(&Book::title, "x")));
  CHECK(db.conn.execute(delete_<Author>()).rowcount() == 1);
  CHECK(db.all(select(count()).select_from<Book>()).at(0) == std::make_tuple(std::int64_t{0}));  // ON DELETE CASCADE
  CHECK_THROWS_AS(db.conn.execute(insert<Book>().values(set(&Book::author_id, 1), set(&Book::title, "x"), set(&Book::pages, -1))),
                  IntegrityError);
}
