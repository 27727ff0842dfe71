// Golden SQL for INSERT, UPDATE and DELETE on both dialects.

#include <catch2/catch.hpp>

#include "sql/golden.hpp"
#include "sql/models.hpp"

using namespace corm;
using namespace corm::test_models;
using corm::test::pg_sql;
using corm::test::sqlite_sql;

TEST_CASE("insert from an object leaves an unset identity column to the database", "[sql][insert]") {
  Book b;
  b.author_id = 7;
  b.title = "Dune";
  b.pages = 412;
  auto s = insert<Book>().values(b);
  CHECK(pg_sql(s) == R"(INSERT INTO "books" ("author_id", "title", "pages", "version") VALUES ($1, $2, $3, $4))");
  CHECK(sqlite_sql(s) == R"(INSERT INTO "books" ("author_id", "title", "pages", "version") VALUES (?1, ?2, ?3, ?4))");
  auto c = s.compile(Dialect::postgresql);
  CHECK(c.params == std::vector<Value>{Value(std::int64_t{7}), Value("Dune"), Value(std::int64_t{412}), Value(std::int64_t{0})});
  b.id = 99;
  CHECK(pg_sql(insert<Book>().values(b)) ==
        R"(INSERT INTO "books" ("id", "author_id", "title", "pages", "version") VALUES ($1, $2, $3, $4, $5))");
}

TEST_CASE("insert of several objects is one multi-row statement", "[sql][insert]") {
  std::vector<Tag> tags{{0, "a"}, {0, "b"}, {0, "c"}};
  auto s = insert<Tag>().values(tags);
  CHECK(pg_sql(s) == R"(INSERT INTO "tags" ("label") VALUES ($1), ($2), ($3))");
  CHECK(s.compile(Dialect::sqlite).params.size() == 3);
  std::vector<Tag> mixed{{0, "a"}, {5, "b"}};
  CHECK_THROWS_AS(insert<Tag>().values(mixed), UsageError);
}

TEST_CASE("insert from column=value pairs fills client defaults of columns left out", "[sql][insert]") {
  auto s = insert<Book>().values(set(&Book::author_id, 1), set(&Book::pages, 10));
  CHECK(pg_sql(s) == R"(INSERT INTO "books" ("author_id", "pages", "title") VALUES ($1, $2, $3))");
  CHECK(s.compile(Dialect::postgresql).params.at(2) == Value("untitled"));
  auto two = insert<Tag>().values(set(&Tag::label, "x")).values(set(&Tag::label, "y"));
  CHECK(sqlite_sql(two) == R"(INSERT INTO "tags" ("label") VALUES (?1), (?2))");
}

TEST_CASE("insert returning columns or the whole entity", "[sql][insert]") {
  auto s = insert<Tag>().values(set(&Tag::label, "x")).returning(col(&Tag::id), col(&Tag::label));
  static_assert(std::is_same_v<decltype(s)::row_type, std::tuple<std::int64_t, std::string>>);
  CHECK(pg_sql(s) == R"(INSERT INTO "tags" ("label") VALUES ($1) RETURNING "id", "label")");
  CHECK(sqlite_sql(s) == R"(INSERT INTO "tags" ("label") VALUES (?1) RETURNING "id", "label")");
  auto all = insert<Tag>().values(set(&Tag::label, "x")).returning_all();
  static_assert(std::is_same_v<decltype(all)::row_type, Tag>);
  CHECK(pg_sql(all) == R"(INSERT INTO "tags" ("label") VALUES ($1) RETURNING "id", "label")");
}

TEST_CASE("on conflict do nothing, with and without a target", "[sql][insert][upsert]") {
  auto s = insert<Tag>().values(set(&Tag::label, "x")).on_conflict_do_nothing();
  CHECK(pg_sql(s) == R"(INSERT INTO "tags" ("label") VALUES ($1) ON CONFLICT DO NOTHING)");
  auto t = insert<Tag>().values(set(&Tag::label, "x")).on_conflict(&Tag::label).do_nothing();
  CHECK(sqlite_sql(t) == R"(INSERT INTO "tags" ("label") VALUES (?1) ON CONFLICT ("label") DO NOTHING)");
}

TEST_CASE("upsert is ON CONFLICT DO UPDATE SET col = excluded.col on both dialects", "[sql][insert][upsert]") {
  auto s = insert<Book>()
               .values(set(&Book::author_id, 1), set(&Book::title, "T"), set(&Book::pages, 5))
               .on_conflict(&Book::author_id, &Book::title)
               .do_update(&Book::pages)
               .returning(col(&Book::id));
  const char* pg = R"(INSERT INTO "books" ("author_id", "title", "pages") VALUES ($1, $2, $3) ON CONFLICT ("author_id", "title") DO UPDATE SET "pages" = excluded."pages" RETURNING "id")";
  CHECK(pg_sql(s) == pg);
  const char* lite = R"(INSERT INTO "books" ("author_id", "title", "pages") VALUES (?1, ?2, ?3) ON CONFLICT ("author_id", "title") DO UPDATE SET "pages" = excluded."pages" RETURNING "id")";
  CHECK(sqlite_sql(s) == lite);
  auto add = insert<Book>()
                 .values(set(&Book::author_id, 1), set(&Book::title, "T"), set(&Book::pages, 5))
                 .on_conflict(&Book::author_id, &Book::title)
                 .do_update_set(set(&Book::pages, coalesce(col(&Book::pages), 0) + excluded(&Book::pages)))
                 .do_update_where(col(&Book::version) < 10);
  CHECK(pg_sql(add) == R"(INSERT INTO "books" ("author_id", "title", "pages") VALUES ($1, $2, $3) ON CONFLICT ("author_id", "title") DO UPDATE SET "pages" = coalesce("books"."pages", $4) + excluded."pages" WHERE "books"."version" < $5)");
  CHECK_THROWS_AS(insert<Tag>().values(set(&Tag::label, "x")).do_update(&Tag::label), UsageError);
}

TEST_CASE("update with set, where and returning", "[sql][update]") {
  auto s = update<Book>()
               .set(&Book::title, "New")
               .set(&Book::pages, col(&Book::pages) + 1)
               .where(col(&Book::id) == 3)
               .returning(col(&Book::pages));
  CHECK(pg_sql(s) == R"(UPDATE "books" SET "title" = $1, "pages" = "books"."pages" + $2 WHERE "books"."id" = $3 RETURNING "pages")");
  CHECK(sqlite_sql(s) == R"(UPDATE "books" SET "title" = ?1, "pages" = "books"."pages" + ?2 WHERE "books"."id" = ?3 RETURNING "pages")");
  CHECK(s.compile(Dialect::sqlite).params == std::vector<Value>{Value("New"), Value(std::int64_t{1}), Value(std::int64_t{3})});
  CHECK_THROWS_AS(update<Book>().where(col(&Book::id) == 1).compile(Dialect::sqlite), UsageError);
}

TEST_CASE("update and delete by primary key of an object", "[sql][update][delete]") {
  BookTag bt{4, 9};
  CHECK(pg_sql(delete_<BookTag>().where_pk(bt)) == R"(DELETE FROM "book_tags" WHERE "book_tags"."book_id" = $1 AND "book_tags"."tag_id" = $2)");
  Tag t{5, "x"};
  CHECK(sqlite_sql(update<Tag>().set(&Tag::label, "y").where_pk(t)) == R"(UPDATE "tags" SET "label" = ?1 WHERE "tags"."id" = ?2)");
}

TEST_CASE("delete with where and returning", "[sql][delete]") {
  auto s = delete_<Book>().where(col(&Book::pages) < 10).returning(col(&Book::id));
  CHECK(pg_sql(s) == R"(DELETE FROM "books" WHERE "books"."pages" < $1 RETURNING "id")");
  CHECK(sqlite_sql(s) == R"(DELETE FROM "books" WHERE "books"."pages" < ?1 RETURNING "id")");
  CHECK(pg_sql(delete_<Tag>()) == R"(DELETE FROM "tags")");
  auto all = delete_<Tag>().where(col(&Tag::id).in_({1, 2})).returning_all();
  CHECK(sqlite_sql(all) == R"(DELETE FROM "tags" WHERE "tags"."id" IN (SELECT value FROM json_each(?1)) RETURNING "id", "label")");
}

TEST_CASE("every statement satisfies Executable", "[sql]") {
  static_assert(Executable<decltype(select<Book>())>);
  static_assert(Executable<decltype(select<Book>().union_(select<Book>()))>);
  static_assert(Executable<decltype(insert<Tag>())>);
  static_assert(Executable<decltype(update<Tag>())>);
  static_assert(Executable<decltype(delete_<Tag>())>);
  SUCCEED();
}
