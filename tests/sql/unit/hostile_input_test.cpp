// Hostile strings stay data: values and LIKE patterns become parameters, identifiers from the
// mapping are quoted, sort keys from users go through an allow-list.

#include <catch2/catch.hpp>

#include "sql/golden.hpp"
#include "sql/models.hpp"

using namespace corm;
using namespace corm::test_models;
using corm::test::pg_sql;
using corm::test::sqlite_sql;

namespace {
const std::string kHostile = "'); DROP TABLE books;--";
}

TEST_CASE("hostile values appear only as parameters", "[sql][hostile]") {
  auto s = select<Book>().where(col(&Book::title) == kHostile || col(&Book::title).like(kHostile) ||
                                col(&Book::title).contains(kHostile) || col(&Book::title).in_({kHostile}));
  for (Dialect d : {Dialect::postgresql, Dialect::sqlite}) {
    Compiled c = s.compile(d);
    CHECK(c.sql->find("DROP") == std::string::npos);
    CHECK(c.sql->find('\'') == c.sql->find("'\\'"));  // the only quote is the ESCAPE clause
    REQUIRE(c.params.size() == 4);
    CHECK(c.params[0] == Value(kHostile));
    CHECK(c.params[1] == Value(kHostile));
  }
  auto i = insert<Tag>().values(set(&Tag::label, kHostile));
  CHECK(pg_sql(i).find("DROP") == std::string::npos);
  auto u = update<Tag>().set(&Tag::label, kHostile);
  CHECK(sqlite_sql(u).find("DROP") == std::string::npos);
}

TEST_CASE("identifiers from the mapping are quoted, embedded quotes doubled", "[sql][hostile]") {
  auto s = select<Odd>().where(col(&Odd::value) == "x");
  CHECK(pg_sql(s) == R"(SELECT "odd ""table"""."id", "odd ""table"""."va""lue" FROM "odd ""table""" WHERE "odd ""table"""."va""lue" = $1)");
  CHECK(create_table_sql(Dialect::sqlite, table_info<Odd>()).at(0) ==
        R"(CREATE TABLE IF NOT EXISTS "odd ""table""" ("id" BIGINT NOT NULL, "va""lue" TEXT NOT NULL, CONSTRAINT "pk_odd ""table""" PRIMARY KEY ("id")))");
  auto a = aliased<Odd>("a\"; DROP");
  CHECK(pg_sql(select(a.col(&Odd::id)).select_from(a)) == R"(SELECT "a""; DROP"."id" FROM "odd ""table""" AS "a""; DROP")");
  CHECK(pg_sql(select(col(&Odd::id).label("x\" y"))) == R"(SELECT "odd ""table"""."id" AS "x"" y" FROM "odd ""table""")");
}

TEST_CASE("user-chosen sort keys and function names never reach the SQL", "[sql][hostile]") {
  CHECK_THROWS_AS(order_by_name<Book>(kHostile), ConfigError);
  CHECK_THROWS_AS(func<int>(kHostile), ConfigError);
}
