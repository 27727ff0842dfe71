// Golden SQL for every SELECT construct, on PostgreSQL and SQLite.

#include <catch2/catch.hpp>

#include "sql/golden.hpp"
#include "sql/models.hpp"

using namespace corm;
using namespace corm::test_models;
using corm::test::pg_sql;
using corm::test::sqlite_sql;

namespace {
const char* kBookCols = R"("books"."id", "books"."author_id", "books"."title", "books"."pages", "books"."version")";
std::string books_select() { return std::string("SELECT ") + kBookCols + R"( FROM "books")"; }
}  // namespace

TEST_CASE("select of an entity lists its mapped columns in declaration order", "[sql][select]") {
  auto s = select<Book>();
  CHECK(pg_sql(s) == books_select());
  CHECK(sqlite_sql(s) == books_select());
  CHECK(s.compile(Dialect::postgresql).params.empty());
}

TEST_CASE("where with comparison operators binds every value as a parameter", "[sql][select]") {
  auto s = select<Book>().where(col(&Book::pages) > 100 && col(&Book::title) != "x");
  CHECK(pg_sql(s) == books_select() + R"( WHERE "books"."pages" > $1 AND "books"."title" <> $2)");
  CHECK(sqlite_sql(s) == books_select() + R"( WHERE "books"."pages" > ?1 AND "books"."title" <> ?2)");
  auto c = s.compile(Dialect::postgresql);
  REQUIRE(c.params.size() == 2);
  CHECK(c.params[0] == Value(std::int64_t{100}));
  CHECK(c.params[1] == Value("x"));
}

TEST_CASE("every comparison operator has its SQL spelling", "[sql][select]") {
  auto p = col(&Book::pages);
  CHECK(pg_sql(select(p).where(p == 1)) == R"(SELECT "books"."pages" FROM "books" WHERE "books"."pages" = $1)");
  CHECK(pg_sql(select(p).where(p != 1)) == R"(SELECT "books"."pages" FROM "books" WHERE "books"."pages" <> $1)");
  CHECK(pg_sql(select(p).where(p < 1)) == R"(SELECT "books"."pages" FROM "books" WHERE "books"."pages" < $1)");
  CHECK(pg_sql(select(p).where(p <= 1)) == R"(SELECT "books"."pages" FROM "books" WHERE "books"."pages" <= $1)");
  CHECK(pg_sql(select(p).where(p >= 1)) == R"(SELECT "books"."pages" FROM "books" WHERE "books"."pages" >= $1)");
  CHECK(pg_sql(select(p).where(1 < p)) == R"(SELECT "books"."pages" FROM "books" WHERE $1 < "books"."pages")");
}

TEST_CASE("or, and, not get parentheses only where precedence needs them", "[sql][select]") {
  auto p = col(&Book::pages);
  auto t = col(&Book::title);
  auto s = select(t).where((p > 1 || p < 0) && !(t == "a"));
  CHECK(pg_sql(s) == R"(SELECT "books"."title" FROM "books" WHERE ("books"."pages" > $1 OR "books"."pages" < $2) AND NOT ("books"."title" = $3))");
  auto s2 = select(t).where(p > 1 || (p < 0 && t == "a"));
  CHECK(sqlite_sql(s2) == R"(SELECT "books"."title" FROM "books" WHERE "books"."pages" > ?1 OR "books"."pages" < ?2 AND "books"."title" = ?3)");
}

TEST_CASE("arithmetic renders with precedence-aware parentheses", "[sql][select]") {
  auto p = col(&Book::pages);
  auto s = select((p + 1) * 2, p - (p - 3), p / 4, -p);
  CHECK(pg_sql(s) == R"(SELECT ("books"."pages" + $1) * $2, "books"."pages" - ("books"."pages" - $3), "books"."pages" / $4, -"books"."pages" FROM "books")");
}

TEST_CASE("in_ binds the whole list as one parameter on both dialects", "[sql][select]") {
  auto s = select<Book>().where(col(&Book::id).in_({1, 2, 3}));
  CHECK(pg_sql(s) == books_select() + R"( WHERE "books"."id" = ANY($1))");
  CHECK(sqlite_sql(s) == books_select() + R"( WHERE "books"."id" IN (SELECT value FROM json_each(?1)))");
  auto pg = s.compile(Dialect::postgresql);
  REQUIRE(pg.params.size() == 1);
  const auto& arr = std::get<Array>(pg.params[0].storage());
  REQUIRE(arr.items.size() == 3);
  CHECK(arr.items[2] == Value(std::int64_t{3}));
  auto lite = s.compile(Dialect::sqlite);
  CHECK(lite.params.at(0) == Value("[1,2,3]"));
}

TEST_CASE("not_in uses <> ALL on PostgreSQL and NOT IN json_each on SQLite", "[sql][select]") {
  std::vector<std::string> titles{"a", "b\"c"};
  auto s = select(col(&Book::id)).where(col(&Book::title).not_in(titles));
  CHECK(pg_sql(s) == R"(SELECT "books"."id" FROM "books" WHERE "books"."title" <> ALL($1))");
  CHECK(sqlite_sql(s) == R"(SELECT "books"."id" FROM "books" WHERE "books"."title" NOT IN (SELECT value FROM json_each(?1)))");
  CHECK(s.compile(Dialect::sqlite).params.at(0) == Value(R"(["a","b\"c"])"));
}

TEST_CASE("like, ilike and the escaping helpers", "[sql][select]") {
  auto t = col(&Book::title);
  CHECK(pg_sql(select(t).where(t.like("K%"))) == R"(SELECT "books"."title" FROM "books" WHERE "books"."title" LIKE $1)");
  CHECK(pg_sql(select(t).where(t.not_like("K%"))) == R"(SELECT "books"."title" FROM "books" WHERE "books"."title" NOT LIKE $1)");
  CHECK(pg_sql(select(t).where(t.ilike("k%"))) == R"(SELECT "books"."title" FROM "books" WHERE "books"."title" ILIKE $1)");
  CHECK(sqlite_sql(select(t).where(t.ilike("k%"))) == R"(SELECT "books"."title" FROM "books" WHERE "books"."title" LIKE ?1)");
  auto c = select(t).where(t.contains("50%_off\\"));
  CHECK(pg_sql(c) == R"(SELECT "books"."title" FROM "books" WHERE "books"."title" LIKE $1 ESCAPE '\')");
  CHECK(sqlite_sql(c) == R"(SELECT "books"."title" FROM "books" WHERE "books"."title" LIKE ?1 ESCAPE '\')");
  CHECK(c.compile(Dialect::postgresql).params.at(0) == Value(R"(%50\%\_off\\%)"));
  CHECK(select(t).where(t.startswith("a_")).compile(Dialect::sqlite).params.at(0) == Value(R"(a\_%)"));
  CHECK(select(t).where(t.endswith("%")).compile(Dialect::sqlite).params.at(0) == Value(R"(%\%)"));
  CHECK(pg_sql(select(t).where(t.icontains("x"))) == R"(SELECT "books"."title" FROM "books" WHERE "books"."title" ILIKE $1 ESCAPE '\')");
}

TEST_CASE("between, is_null and is_not_null", "[sql][select]") {
  auto p = col(&Book::pages);
  CHECK(pg_sql(select(p).where(p.between(10, 20))) == R"(SELECT "books"."pages" FROM "books" WHERE "books"."pages" BETWEEN $1 AND $2)");
  CHECK(sqlite_sql(select(p).where(p.is_null())) == R"(SELECT "books"."pages" FROM "books" WHERE "books"."pages" IS NULL)");
  CHECK(sqlite_sql(select(p).where(p.is_not_null())) == R"(SELECT "books"."pages" FROM "books" WHERE "books"."pages" IS NOT NULL)");
}

TEST_CASE("cast renders the target type per dialect", "[sql][select]") {
  auto s = select(col(&Book::pages).cast<double>(), cast<std::string>(col(&Book::id)));
  CHECK(pg_sql(s) == R"(SELECT CAST("books"."pages" AS DOUBLE PRECISION), CAST("books"."id" AS TEXT) FROM "books")");
  CHECK(sqlite_sql(s) == R"(SELECT CAST("books"."pages" AS DOUBLE), CAST("books"."id" AS TEXT) FROM "books")");
  static_assert(std::is_same_v<decltype(s)::row_type, std::tuple<std::optional<double>, std::string>>);
}

TEST_CASE("select of expressions exposes the tuple row type", "[sql][select]") {
  auto s = select(col(&Book::id), col(&Book::title), col(&Book::pages));
  static_assert(std::is_same_v<decltype(s)::row_type, std::tuple<std::int64_t, std::string, std::optional<int>>>);
  CHECK(pg_sql(s) == R"(SELECT "books"."id", "books"."title", "books"."pages" FROM "books")");
}

TEST_CASE("join along relationships infers the ON clause", "[sql][select][join]") {
  auto s = select(col(&Book::title), col(&Author::name)).join(&Book::author);
  CHECK(pg_sql(s) == R"(SELECT "books"."title", "authors"."name" FROM "books" JOIN "authors" ON "books"."author_id" = "authors"."id")");
  auto s2 = select<Author>().left_join(&Author::books).where(col(&Book::id).is_null());
  CHECK(sqlite_sql(s2) == R"(SELECT "authors"."id", "authors"."name", "authors"."email" FROM "authors" LEFT OUTER JOIN "books" ON "authors"."id" = "books"."author_id" WHERE "books"."id" IS NULL)");
  auto s3 = select(col(&Author::name)).join<Book>();
  CHECK(pg_sql(s3) == R"(SELECT "authors"."name" FROM "authors" JOIN "books" ON "authors"."id" = "books"."author_id")");
  auto s4 = select(col(&Book::title)).join<Author>();
  CHECK(pg_sql(s4) == R"(SELECT "books"."title" FROM "books" JOIN "authors" ON "books"."author_id" = "authors"."id")");
}

TEST_CASE("many_to_many joins through the association table", "[sql][select][join]") {
  auto s = select(col(&Book::title), col(&Tag::label)).join(&Book::tags);
  CHECK(pg_sql(s) == R"(SELECT "books"."title", "tags"."label" FROM "books" JOIN "book_tags" ON "books"."id" = "book_tags"."book_id" JOIN "tags" ON "book_tags"."tag_id" = "tags"."id")");
  auto s2 = select(col(&Tag::label)).join<Book>();
  CHECK(pg_sql(s2) == R"(SELECT "tags"."label" FROM "tags" JOIN "book_tags" ON "tags"."id" = "book_tags"."tag_id" JOIN "books" ON "book_tags"."book_id" = "books"."id")");
}

TEST_CASE("join without a unique relationship explains what to do", "[sql][select][join]") {
  CHECK_THROWS_AS(select(col(&Tag::label)).join<Employee>(), UsageError);
  CHECK_THROWS_WITH(select(col(&Tag::label)).join<Employee>(), Catch::Contains("no relationship"));
  // authors ↔ profiles: has_one on authors and belongs_to on profiles are one link.
  CHECK(pg_sql(select(col(&Author::name)).join<Profile>()) ==
        R"(SELECT "authors"."name" FROM "authors" JOIN "profiles" ON "authors"."id" = "profiles"."author_id")");
}

TEST_CASE("explicit join conditions and aliases for self-joins", "[sql][select][join]") {
  auto boss = aliased<Employee>("boss");
  auto s = select(col(&Employee::name), boss.col(&Employee::name))
               .left_join(boss, col(&Employee::boss_id) == boss.col(&Employee::id))
               .where(boss.col(&Employee::name) == "Ann");
  CHECK(pg_sql(s) == R"(SELECT "employees"."name", "boss"."name" FROM "employees" LEFT OUTER JOIN "employees" AS "boss" ON "employees"."boss_id" = "boss"."id" WHERE "boss"."name" = $1)");
  auto s2 = select(col(&Book::title)).join<Author>(col(&Book::author_id) == col(&Author::id) && col(&Author::name) == "x");
  CHECK(sqlite_sql(s2) == R"(SELECT "books"."title" FROM "books" JOIN "authors" ON "books"."author_id" = "authors"."id" AND "authors"."name" = ?1)");
  CHECK(aliased<Employee>().name() == "employees_1");
}

TEST_CASE("group_by, having, order_by with directions and nulls placement", "[sql][select]") {
  auto s = select(col(&Book::author_id), count().label("n"))
               .group_by(col(&Book::author_id))
               .having(count() > 2)
               .order_by(count().label("n").desc(), asc(&Book::author_id).nulls_last());
  CHECK(pg_sql(s) == R"(SELECT "books"."author_id", count(*) AS "n" FROM "books" GROUP BY "books"."author_id" HAVING count(*) > $1 ORDER BY "n" DESC, "books"."author_id" NULLS LAST)");
  auto s2 = select<Book>().order_by(desc(&Book::pages).nulls_first(), col(&Book::id));
  CHECK(sqlite_sql(s2) == books_select() + R"( ORDER BY "books"."pages" DESC NULLS FIRST, "books"."id")");
}

TEST_CASE("limit and offset are bound parameters", "[sql][select]") {
  auto s = select<Book>().limit(10).offset(20);
  CHECK(pg_sql(s) == books_select() + " LIMIT $1 OFFSET $2");
  CHECK(sqlite_sql(s) == books_select() + " LIMIT ?1 OFFSET ?2");
  CHECK(s.compile(Dialect::sqlite).params == std::vector<Value>{Value(std::int64_t{10}), Value(std::int64_t{20})});
  auto o = select<Book>().offset(5);
  CHECK(pg_sql(o) == books_select() + " OFFSET $1");
  CHECK(sqlite_sql(o) == books_select() + " LIMIT -1 OFFSET ?1");
}

TEST_CASE("distinct", "[sql][select]") {
  CHECK(pg_sql(select(col(&Book::author_id)).distinct()) == R"(SELECT DISTINCT "books"."author_id" FROM "books")");
}

TEST_CASE("aggregate and scalar functions", "[sql][select][func]") {
  auto p = col(&Book::pages);
  auto s = select(count(), count(p), count_distinct(col(&Book::author_id)), sum(p), min(p), max(p), avg(p));
  CHECK(pg_sql(s) == R"(SELECT count(*), count("books"."pages"), count(DISTINCT "books"."author_id"), sum("books"."pages"), min("books"."pages"), max("books"."pages"), avg("books"."pages") FROM "books")");
  static_assert(std::is_same_v<decltype(s)::row_type,
                               std::tuple<std::int64_t, std::int64_t, std::int64_t, std::optional<std::int64_t>,
                                          std::optional<int>, std::optional<int>, std::optional<double>>>);
  auto s2 = select(lower(col(&Book::title)), upper(col(&Book::title)), coalesce(p, 0), now());
  CHECK(sqlite_sql(s2) == R"(SELECT lower("books"."title"), upper("books"."title"), coalesce("books"."pages", ?1), CURRENT_TIMESTAMP FROM "books")");
  static_assert(std::is_same_v<decltype(s2)::row_type, std::tuple<std::string, std::string, int, Timestamp>>);
  auto s3 = select(func<std::int64_t>("length", col(&Book::title)), func<std::string>("pg_catalog.lower", "X"));
  CHECK(pg_sql(s3) == R"(SELECT length("books"."title"), pg_catalog.lower($1) FROM "books")");
}

TEST_CASE("func rejects names that are not identifiers", "[sql][func]") {
  CHECK_THROWS_AS(func<int>("count(*); DROP TABLE books; --"), ConfigError);
  CHECK_THROWS_AS(func<int>(""), ConfigError);
  CHECK_THROWS_AS(func<int>("a.b.c"), ConfigError);
  CHECK_THROWS_AS(func<int>("x y"), ConfigError);
}

TEST_CASE("select with no table in its columns takes FROM from its other clauses", "[sql][select]") {
  auto s = select(count()).where(col(&Book::pages) > 5);
  CHECK(pg_sql(s) == R"(SELECT count(*) FROM "books" WHERE "books"."pages" > $1)");
  CHECK(pg_sql(select(count()).select_from<Author>()) == R"(SELECT count(*) FROM "authors")");
  CHECK(pg_sql(select(now())) == R"(SELECT CURRENT_TIMESTAMP)");
}

TEST_CASE("scalar subqueries, in_(subquery) and exists correlate with the enclosing query", "[sql][select][subquery]") {
  auto n_books = select(count()).where(col(&Book::author_id) == col(&Author::id)).scalar_subquery();
  auto s = select(col(&Author::name), n_books.label("n"));
  CHECK(pg_sql(s) == R"(SELECT "authors"."name", (SELECT count(*) FROM "books" WHERE "books"."author_id" = "authors"."id") AS "n" FROM "authors")");

  auto s2 = select<Author>().where(col(&Author::id).in_(select(col(&Book::author_id)).where(col(&Book::pages) > 300)));
  CHECK(sqlite_sql(s2) == R"(SELECT "authors"."id", "authors"."name", "authors"."email" FROM "authors" WHERE "authors"."id" IN (SELECT "books"."author_id" FROM "books" WHERE "books"."pages" > ?1))");
  auto s2n = select(col(&Author::id)).where(col(&Author::id).not_in(select(col(&Book::author_id))));
  CHECK(pg_sql(s2n) == R"(SELECT "authors"."id" FROM "authors" WHERE "authors"."id" NOT IN (SELECT "books"."author_id" FROM "books"))");

  auto s3 = select(col(&Author::name))
                .where(exists(select(col(&Book::id)).where(col(&Book::author_id) == col(&Author::id) && col(&Book::pages) > 1)));
  CHECK(pg_sql(s3) == R"(SELECT "authors"."name" FROM "authors" WHERE EXISTS (SELECT "books"."id" FROM "books" WHERE "books"."author_id" = "authors"."id" AND "books"."pages" > $1))");
  auto s4 = select(col(&Author::name)).where(not_exists(select(col(&Book::id)).where(col(&Book::author_id) == col(&Author::id))));
  CHECK(sqlite_sql(s4) == R"(SELECT "authors"."name" FROM "authors" WHERE NOT EXISTS (SELECT "books"."id" FROM "books" WHERE "books"."author_id" = "authors"."id"))");
}

TEST_CASE("subquery in FROM and JOIN numbers its parameters in text order", "[sql][select][subquery]") {
  auto counts = select(col(&Book::author_id), count().label("n"))
                    .where(col(&Book::pages) > 10)
                    .group_by(col(&Book::author_id))
                    .subquery("counts");
  auto s = select(col(&Author::name), counts.c<std::int64_t>("n"))
               .join(counts, counts.col(&Book::author_id) == col(&Author::id))
               .where(counts.c<std::int64_t>("n") >= 2);
  CHECK(pg_sql(s) == R"(SELECT "authors"."name", "counts"."n" FROM "authors" JOIN (SELECT "books"."author_id", count(*) AS "n" FROM "books" WHERE "books"."pages" > $1 GROUP BY "books"."author_id") AS "counts" ON "counts"."author_id" = "authors"."id" WHERE "counts"."n" >= $2)");
  CHECK(s.compile(Dialect::postgresql).params == std::vector<Value>{Value(std::int64_t{10}), Value(std::int64_t{2})});
  auto s2 = select(counts.c<std::int64_t>("n")).where(counts.c<std::int64_t>("n") > 0);
  CHECK(sqlite_sql(s2) == R"(SELECT "counts"."n" FROM (SELECT "books"."author_id", count(*) AS "n" FROM "books" WHERE "books"."pages" > ?1 GROUP BY "books"."author_id") AS "counts" WHERE "counts"."n" > ?2)");
}

TEST_CASE("union and union_all with order and limit on the whole", "[sql][select][union]") {
  auto a = select(col(&Book::id), col(&Book::title)).where(col(&Book::pages) > 100);
  auto b = select(col(&Book::id), col(&Book::title)).where(col(&Book::title).like("A%"));
  auto u = a.union_(b).order_by(col(&Book::title)).limit(5);
  CHECK(pg_sql(u) == R"(SELECT "books"."id", "books"."title" FROM "books" WHERE "books"."pages" > $1 UNION SELECT "books"."id", "books"."title" FROM "books" WHERE "books"."title" LIKE $2 ORDER BY "title" LIMIT $3)");
  auto ua = union_all(a, b, a);
  CHECK(sqlite_sql(ua) == R"(SELECT "books"."id", "books"."title" FROM "books" WHERE "books"."pages" > ?1 UNION ALL SELECT "books"."id", "books"."title" FROM "books" WHERE "books"."title" LIKE ?2 UNION ALL SELECT "books"."id", "books"."title" FROM "books" WHERE "books"."pages" > ?3)");
  CHECK_THROWS_AS(a.limit(1).union_(b), UsageError);
}

TEST_CASE("with_for_update renders on PostgreSQL and is omitted on SQLite", "[sql][select][lock]") {
  auto s = select<Book>().where(col(&Book::id) == 1).with_for_update();
  CHECK(pg_sql(s) == books_select() + R"( WHERE "books"."id" = $1 FOR UPDATE)");
  CHECK(sqlite_sql(s) == books_select() + R"( WHERE "books"."id" = ?1)");
  CHECK(pg_sql(select<Book>().with_for_update(nowait)) == books_select() + " FOR UPDATE NOWAIT");
  CHECK(pg_sql(select<Book>().limit(1).with_for_update(skip_locked)) == books_select() + " LIMIT $1 FOR UPDATE SKIP LOCKED");
  CHECK(pg_sql(select<Book>().join(&Book::author).with_for_update(of<Book>(), nowait)) ==
        books_select() + R"( JOIN "authors" ON "books"."author_id" = "authors"."id" FOR UPDATE OF "books" NOWAIT)");
  CHECK(pg_sql(select<Book>().with_for_update(for_share)) == books_select() + " FOR SHARE");
  CHECK(pg_sql(select<Book>().with_for_update(for_share, skip_locked)) == books_select() + " FOR SHARE SKIP LOCKED");
  CHECK(sqlite_sql(select<Book>().with_for_update(for_share)) == books_select());
}

TEST_CASE("order_by_name accepts only mapped column names", "[sql][select]") {
  CHECK(pg_sql(select<Book>().order_by(order_by_name<Book>("title", Direction::desc))) ==
        books_select() + R"( ORDER BY "books"."title" DESC)");
  CHECK_THROWS_AS(order_by_name<Book>("title; DROP TABLE books"), ConfigError);
  CHECK_THROWS_WITH(order_by_name<Book>("nope"), Catch::Contains("allowed names: id, author_id, title, pages, version"));
}

TEST_CASE("select of two entities reads both from one row", "[sql][select]") {
  auto s = select<Book, Author>().join(&Book::author);
  static_assert(std::is_same_v<decltype(s)::row_type, std::tuple<Book, Author>>);
  CHECK(pg_sql(s) == std::string("SELECT ") + kBookCols +
                         R"(, "authors"."id", "authors"."name", "authors"."email" FROM "books" JOIN "authors" ON "books"."author_id" = "authors"."id")");
}

TEST_CASE("a statement built from an lvalue leaves the original unchanged", "[sql][select]") {
  auto base = select<Book>();
  auto filtered = base.where(col(&Book::id) == 1);
  CHECK(pg_sql(base) == books_select());
  CHECK(pg_sql(filtered) == books_select() + R"( WHERE "books"."id" = $1)");
}
