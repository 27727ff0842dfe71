// The run-time mapping: columns, relationships, hydration, relationship holders.

#include <catch2/catch.hpp>

#include "corm/core/result_set.hpp"
#include "sql/models.hpp"

using namespace corm;
using namespace corm::test_models;

namespace {
Result rows(std::vector<std::string> cols, const std::vector<std::vector<Value>>& data) {
  auto rs = std::make_shared<BufferedResultSet>(std::move(cols));
  for (const auto& r : data)
    for (const Value& v : r) {
      if (v.is_null()) rs->push_null();
      else if (auto* i = std::get_if<std::int64_t>(&v.storage())) rs->push_int(*i);
      else rs->push_text(std::get<std::string>(v.storage()));
    }
  return Result(rs);
}

struct RecordingHook : RelationshipHook {
  mutable int calls = 0;
  void on_unloaded_access(void* holder) const override {
    ++calls;
    static_cast<Many<Book>*>(holder)->set({std::make_shared<Book>()});
  }
};
}  // namespace

TEST_CASE("column types, nullability and options come from the mapping", "[sql][mapping]") {
  const TableInfo& t = table_info<Book>();
  CHECK(t.name == "books");
  REQUIRE(t.columns.size() == 5);
  CHECK(t.columns[0].type == ColumnType::int64);
  CHECK(t.columns[0].identity);
  CHECK(t.columns[3].type == ColumnType::int32);
  CHECK(t.columns[3].nullable);
  CHECK_FALSE(t.columns[2].nullable);
  CHECK(t.columns[2].max_length == 200);
  CHECK(t.version_column == std::optional<std::size_t>(4));
  CHECK(t.primary_key == std::vector<std::size_t>{0});
  REQUIRE(t.columns[1].foreign_key);
  CHECK(t.columns[1].foreign_key->table == "authors");
  CHECK(t.columns[1].foreign_key->column == "id");
  CHECK(&t.columns[1].foreign_key->target() == &table_info<Author>());
  CHECK(t.columns[2].client_default() == Value("untitled"));
  CHECK(t.column("title").index == 2);
  CHECK_THROWS_WITH(t.column("nope"), Catch::Contains("id, author_id, title, pages, version"));
  CHECK(table_info<BookTag>().primary_key == std::vector<std::size_t>{0, 1});
}

TEST_CASE("relationships carry their links, loader strategy and cascades", "[sql][mapping]") {
  const TableInfo& a = table_info<Author>();
  const RelationshipInfo* books = a.find_relationship("books");
  REQUIRE(books);
  CHECK(books->kind == RelationshipKind::one_to_many);
  CHECK(books->default_loader == LoaderStrategy::selectin);
  CHECK(has_cascade(books->cascade, Cascade::delete_orphan));
  CHECK(books->back_populates == "author");
  CHECK(&books->target() == &table_info<Book>());
  CHECK(books->local_column == 0);   // authors.id
  CHECK(books->remote_column == 1);  // books.author_id
  CHECK_FALSE(books->to_one());

  const RelationshipInfo* author = table_info<Book>().find_relationship("author");
  REQUIRE(author);
  CHECK(author->kind == RelationshipKind::many_to_one);
  CHECK(author->default_loader == LoaderStrategy::lazy);
  CHECK(author->cascade == Cascade::save_update);
  CHECK(author->to_one());

  const RelationshipInfo* tags = table_info<Book>().find_relationship("tags");
  REQUIRE(tags);
  CHECK(tags->kind == RelationshipKind::many_to_many);
  CHECK(&tags->secondary() == &table_info<BookTag>());
  CHECK(tags->secondary_local == 0);
  CHECK(tags->secondary_remote == 1);
  CHECK(a.find_relationship("profile")->kind == RelationshipKind::one_to_one);

  Author obj;
  auto* holder = static_cast<Many<Book>*>(books->holder(&obj));
  CHECK(holder == &obj.books);
}

TEST_CASE("from_row builds an object from a select's columns", "[sql][mapping][hydrate]") {
  Result r = rows({"id", "author_id", "title", "pages", "version"},
                  {{Value(std::int64_t{1}), Value(std::int64_t{2}), Value("Dune"), Value(), Value(std::int64_t{3})}});
  Book b = select<Book>().decode(r.at(0));
  CHECK(b.id == 1);
  CHECK(b.author_id == 2);
  CHECK(b.title == "Dune");
  CHECK_FALSE(b.pages);
  CHECK(b.version == 3);
  CHECK_FALSE(b.author.is_loaded());

  Result partial = rows({"title", "id"}, {{Value("X"), Value(std::int64_t{9})}});
  std::vector<std::size_t> order{2, 0};
  Book p = from_row<Book>(partial.at(0), order);
  CHECK(p.title == "X");
  CHECK(p.id == 9);
  auto tuple = select(col(&Book::title), col(&Book::id)).decode(partial.at(0));
  CHECK(tuple == std::make_tuple(std::string("X"), std::int64_t{9}));
}

TEST_CASE("from_row names the mapped and the result column of a cell that does not decode", "[sql][mapping][hydrate]") {
  // pages is std::optional<int32_t>: 2^40 does not fit; title reads text, so a wrong type there
  // would be caught too. The whole row is read in one batch; the message must still say which cell.
  Result r = rows({"id", "author_id", "title", "pages", "version"},
                  {{Value(std::int64_t{1}), Value(std::int64_t{2}), Value("Dune"), Value(std::int64_t{1} << 40),
                    Value(std::int64_t{3})}});
  try {
    (void)from_row<Book>(r.at(0));
    FAIL("expected DataError");
  } catch (const DataError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("books.pages") && Catch::Contains("column \"pages\" (index 3)") &&
                         Catch::Contains("1099511627776") && Catch::Contains("int32"));
  }
  // Too few cells for the model: which index is missing and what the result has.
  Result short_row = rows({"id", "author_id"}, {{Value(std::int64_t{1}), Value(std::int64_t{2})}});
  CHECK_THROWS_WITH(from_row<Book>(short_row.at(0)), Catch::Contains("column index 4 is out of range") &&
                                                          Catch::Contains("2 column(s)"));
}

TEST_CASE("column and primary-key values of an object", "[sql][mapping][hydrate]") {
  Book b;
  b.id = 5;
  b.title = "T";
  b.pages = 3;
  auto v = column_values(b);
  REQUIRE(v.size() == 5);
  CHECK(v[0] == Value(std::int64_t{5}));
  CHECK(v[2] == Value("T"));
  CHECK(v[3] == Value(std::int64_t{3}));
  CHECK(primary_key_values(b) == std::vector<Value>{Value(std::int64_t{5})});
  CHECK(primary_key_values(BookTag{1, 2}) == std::vector<Value>{Value(std::int64_t{1}), Value(std::int64_t{2})});
  CHECK(column_value(b, 2) == Value("T"));
}

TEST_CASE("One and Many know whether they were loaded", "[sql][mapping][relationship]") {
  Book b;
  // A new object's holders are loaded and empty: it has no related rows yet.
  CHECK(b.author.is_loaded());
  CHECK(b.author.get() == nullptr);
  b.author.reset_unloaded();  // what a session does to an object it read from a row
  CHECK_FALSE(b.author.is_loaded());
  CHECK_THROWS_AS(b.author.get(), UsageError);
  CHECK(b.author.peek() == nullptr);
  b.author = std::make_shared<Author>();
  CHECK(b.author.is_loaded());
  CHECK(b.author->id == 0);
  b.author.set(nullptr);
  CHECK(b.author.is_loaded());
  CHECK_FALSE(static_cast<bool>(b.author));
  b.author.reset_unloaded();
  CHECK_FALSE(b.author.is_loaded());

  Author a;
  CHECK(a.books.is_loaded());
  CHECK(a.books.empty());
  a.books.push_back(std::make_shared<Book>());  // no add() to a session needed first
  CHECK(a.books.size() == 1);
  a.books.reset_unloaded();
  CHECK_THROWS_WITH(a.books.size(), Catch::Contains("selectinload"));
  a.books.set({});
  CHECK(a.books.empty());
  a.books.push_back(std::make_shared<Book>());
  CHECK(a.books.size() == 1);
}

TEST_CASE("an unloaded read goes through the installed hook", "[sql][mapping][relationship]") {
  Author a;
  a.books.reset_unloaded();
  auto hook = std::make_shared<RecordingHook>();
  a.books.set_hook(hook);
  CHECK(a.books.size() == 1);
  CHECK(a.books.size() == 1);
  CHECK(hook->calls == 1);

  struct Raising : RelationshipHook {
    void on_unloaded_access(void*) const override { throw UsageError("raiseload: books"); }
  };
  Author b;
  b.books.reset_unloaded();
  b.books.set_hook(std::make_shared<Raising>());
  CHECK_THROWS_WITH(b.books.empty(), "raiseload: books");
}

TEST_CASE("members that are not mapped are reported", "[sql][mapping]") {
  struct Extra {
    std::int64_t id{};
    std::int64_t other{};
  };
  (void)sizeof(Extra);
  // Book has int64 columns, so &Book-like members of that type compile; an unmapped one throws.
  struct Probe {
    static std::int64_t Book::*unmapped() { return nullptr; }
  };
  CHECK_THROWS_AS(col(Probe::unmapped()), ConfigError);
}
