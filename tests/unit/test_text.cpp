#include <catch2/catch.hpp>

#include "corm/core/error.hpp"
#include "corm/sql/text.hpp"

using corm::Dialect;
using corm::UsageError;
using Catch::Matchers::Contains;

namespace {
std::string pg(const corm::TextClause& t, const corm::Params& p = {}) { return *t.compile(Dialect::postgresql, p).sql; }
std::string lite(const corm::TextClause& t, const corm::Params& p = {}) { return *t.compile(Dialect::sqlite, p).sql; }
// Compiles SQL with no binds for PostgreSQL.
std::string pg_plain(std::string_view sql) { return pg(corm::text(sql)); }
}  // namespace

TEST_CASE("text() turns named binds into numbered placeholders per dialect", "[text]") {
  const auto t = corm::text("SELECT * FROM books WHERE pages > :min AND title = :title");
  CHECK(t.bind_names() == std::vector<std::string>{"min", "title"});
  const corm::Params p{{"min", 100}, {"title", "Dune"}};
  CHECK(pg(t, p) == "SELECT * FROM books WHERE pages > $1 AND title = $2");
  CHECK(lite(t, p) == "SELECT * FROM books WHERE pages > ?1 AND title = ?2");
  const auto c = t.compile(Dialect::postgresql, p);
  REQUIRE(c.params.size() == 2);
  CHECK(c.params[0] == corm::Value(100));
  CHECK(c.params[1] == corm::Value("Dune"));
  CHECK(t.source() == "SELECT * FROM books WHERE pages > :min AND title = :title");
}

TEST_CASE("text() reuses the number of a name used twice", "[text]") {
  const auto t = corm::text("SELECT :a, :b, :a, :b_2");
  CHECK(t.bind_names() == std::vector<std::string>{"a", "b", "b_2"});
  const corm::Params p{{"a", 1}, {"b", 2}, {"b_2", 3}};
  CHECK(pg(t, p) == "SELECT $1, $2, $1, $3");
  CHECK(lite(t, p) == "SELECT ?1, ?2, ?1, ?3");
  CHECK(t.compile(Dialect::sqlite, p).params.size() == 3);
}

TEST_CASE("text() leaves colons inside quotes, identifiers, comments and dollar quotes alone", "[text]") {
  CHECK(pg_plain("SELECT ':not' FROM t") == "SELECT ':not' FROM t");
  CHECK(pg_plain("SELECT 'it''s :not' FROM t") == "SELECT 'it''s :not' FROM t");
  CHECK(pg_plain("SELECT E'it\\'s :not' FROM t") == "SELECT E'it\\'s :not' FROM t");
  CHECK(pg_plain("SELECT \":weird\"\"col\" FROM t") == "SELECT \":weird\"\"col\" FROM t");
  CHECK(pg_plain("SELECT 1 -- :not\nFROM t") == "SELECT 1 -- :not\nFROM t");
  CHECK(pg_plain("SELECT /* :not /* nested :x */ still */ 1") == "SELECT /* :not /* nested :x */ still */ 1");
  CHECK(pg_plain("SELECT $$ :not ' \" $$") == "SELECT $$ :not ' \" $$");
  CHECK(pg_plain("SELECT $fn$ :not $$ :x $fn$") == "SELECT $fn$ :not $$ :x $fn$");
}

TEST_CASE("text() keeps the PostgreSQL cast and writes \\: as a literal colon", "[text]") {
  const auto t = corm::text("SELECT :v::int, x::text, '1'::date, a\\:b");
  CHECK(t.bind_names() == std::vector<std::string>{"v"});
  CHECK(pg(t, {{"v", 1}}) == "SELECT $1::int, x::text, '1'::date, a:b");
}

TEST_CASE("text() only takes a colon after a non-identifier character as a bind", "[text]") {
  const auto t = corm::text("SELECT arr[1:n], x:y, (:p), t.c=:q");
  CHECK(t.bind_names() == std::vector<std::string>{"p", "q"});
  CHECK(pg(t, {{"p", 1}, {"q", 2}}) == "SELECT arr[1:n], x:y, ($1), t.c=$2");
  CHECK(corm::text("SELECT :1").bind_names().empty());
  CHECK(corm::text("SELECT $1 AS x").bind_names().empty());
}

TEST_CASE("text() ignores a ':' inside a string next to a real bind", "[text]") {
  const auto t = corm::text("INSERT INTO t (a, b) VALUES (':a', :a)");
  CHECK(t.bind_names() == std::vector<std::string>{"a"});
  CHECK(lite(t, {{"a", 1}}) == "INSERT INTO t (a, b) VALUES (':a', ?1)");
}

TEST_CASE("text() rejects empty SQL", "[text]") {
  CHECK_THROWS_AS(corm::text(""), UsageError);
  CHECK_THROWS_WITH(corm::text("   \n\t"), Contains("needs a SQL statement"));
  CHECK_THROWS_AS(corm::text("-- only a comment"), UsageError);
  CHECK_THROWS_AS(corm::text(" ; "), UsageError);
}

TEST_CASE("text() rejects a second statement and says to run them separately", "[text]") {
  CHECK_THROWS_AS(corm::text("SELECT 1; SELECT 2"), UsageError);
  CHECK_THROWS_WITH(corm::text("SELECT * FROM t WHERE id = :id; DROP TABLE t"),
                    Contains("more than one statement") && Contains("execute_script"));
  CHECK_THROWS_AS(corm::text("SELECT 1;DROP TABLE t --"), UsageError);
}

TEST_CASE("text() accepts a trailing ';' and comments after it, and ';' inside quotes", "[text]") {
  CHECK(pg_plain("SELECT 1;") == "SELECT 1");
  CHECK(pg_plain("SELECT 1 ;  -- done\n /* bye */ ;") == "SELECT 1 ");
  CHECK(pg_plain("SELECT ';' AS s") == "SELECT ';' AS s");
  CHECK(pg_plain("SELECT \";\" FROM t") == "SELECT \";\" FROM t");
  CHECK(pg_plain("SELECT 1 -- ; DROP TABLE t") == "SELECT 1 -- ; DROP TABLE t");
  CHECK(pg_plain("DO $$ BEGIN PERFORM 1; PERFORM 2; END $$") == "DO $$ BEGIN PERFORM 1; PERFORM 2; END $$");
}

TEST_CASE("text() reports unterminated quotes and comments", "[text]") {
  CHECK_THROWS_WITH(corm::text("SELECT 'abc"), Contains("unterminated string literal"));
  CHECK_THROWS_WITH(corm::text("SELECT \"abc"), Contains("unterminated quoted identifier"));
  CHECK_THROWS_WITH(corm::text("SELECT 1 /* abc"), Contains("unterminated block comment"));
  CHECK_THROWS_WITH(corm::text("SELECT $x$ abc"), Contains("unterminated dollar-quoted"));
}

TEST_CASE("compile() names every bind left without a value", "[text]") {
  const auto t = corm::text("SELECT :a, :b, :c");
  CHECK_THROWS_AS(t.compile(Dialect::sqlite), UsageError);
  CHECK_THROWS_WITH(t.compile(Dialect::sqlite, {{"b", 1}}), Contains(":a, :c") && !Contains(":b"));
}

TEST_CASE("compile() rejects parameter names the SQL does not use", "[text]") {
  const auto t = corm::text("SELECT :a");
  CHECK_THROWS_WITH(t.compile(Dialect::postgresql, {{"a", 1}, {"zz", 2}}), Contains("'zz'") && Contains(":a"));
  CHECK_THROWS_WITH(corm::text("SELECT 1").compile(Dialect::postgresql, {{"x", 1}}), Contains("no bind parameters"));
}

TEST_CASE("bind() stores values, later values and execute() params override", "[text]") {
  const auto base = corm::text("SELECT :a, :b");
  const auto bound = base.bind("a", 1).bind(":b", "x");
  CHECK_THROWS_AS(base.compile(Dialect::postgresql), UsageError);  // the original is unchanged
  auto c = bound.compile(Dialect::postgresql);
  CHECK(c.params == std::vector<corm::Value>{1, "x"});
  c = bound.bind("a", 2).compile(Dialect::postgresql, {{"b", corm::Null{}}});
  CHECK(c.params == std::vector<corm::Value>{2, corm::Null{}});
  CHECK_THROWS_WITH(base.bind("nope", 1), Contains(":nope") && Contains(":a :b"));
}

TEST_CASE("compiled SQL is shared between compilations, not copied", "[text]") {
  const auto t = corm::text("SELECT :a");
  const auto c1 = t.compile(Dialect::sqlite, {{"a", 1}});
  const auto c2 = t.bind("a", 2).compile(Dialect::sqlite);
  CHECK(c1.sql.get() == c2.sql.get());
  CHECK(t.compile(Dialect::postgresql, {{"a", 1}}).sql.get() != c1.sql.get());
}
