// The introspection plan without a database: it hands out queries with bound table names and
// builds TableSchema from the results it is fed.

#include <catch2/catch.hpp>

#include "corm/core/result_set.hpp"
#include "sql/models.hpp"

using namespace corm;

namespace {
using Cell = std::variant<std::nullptr_t, std::int64_t, std::string>;
Result rows(std::vector<std::string> cols, const std::vector<std::vector<Cell>>& data) {
  auto rs = std::make_shared<BufferedResultSet>(std::move(cols));
  for (const auto& r : data)
    for (const Cell& c : r) {
      if (std::holds_alternative<std::nullptr_t>(c)) rs->push_null();
      else if (auto* i = std::get_if<std::int64_t>(&c)) rs->push_int(*i);
      else rs->push_text(std::get<std::string>(c));
    }
  return Result(rs);
}
}  // namespace

TEST_CASE("sqlite inspection plan binds table names and reads pragma results", "[sql][inspect]") {
  InspectPlan plan(Dialect::sqlite, {"books"});
  auto q = plan.next();
  REQUIRE(q);
  CHECK(q->sql.find("sqlite_master") != std::string::npos);
  CHECK_THROWS_AS(plan.next(), UsageError);
  plan.feed(rows({"name"}, {{std::string("books")}, {std::string("other")}}));

  q = plan.next();
  REQUIRE(q);
  CHECK(q->sql == R"(SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid)");
  CHECK(q->params == std::vector<Value>{Value("books")});
  plan.feed(rows({"name", "type", "notnull", "dflt_value", "pk"},
                 {{std::string("id"), std::string("INTEGER"), std::int64_t{1}, nullptr, std::int64_t{1}},
                  {std::string("title"), std::string("VARCHAR(200)"), std::int64_t{1}, std::string("'x'"), std::int64_t{0}},
                  {std::string("price"), std::string("DECIMAL_TEXT(12,2)"), std::int64_t{0}, nullptr, std::int64_t{0}}}));
  q = plan.next();
  REQUIRE(q);
  CHECK(q->sql.find("pragma_index_list(?1)") != std::string::npos);
  plan.feed(rows({"name", "unique", "origin"}, {{std::string("ix_t"), std::int64_t{0}, std::string("c")},
                                                 {std::string("sqlite_autoindex_books_1"), std::int64_t{1}, std::string("u")}}));
  q = plan.next();
  REQUIRE(q);
  CHECK(q->sql.find("pragma_foreign_key_list(?1)") != std::string::npos);
  plan.feed(rows({"id", "seq", "table", "from", "to", "on_update", "on_delete"},
                 {{std::int64_t{0}, std::int64_t{0}, std::string("authors"), std::string("author_id"), std::string("id"),
                   std::string("NO ACTION"), std::string("CASCADE")}}));
  q = plan.next();
  REQUIRE(q);
  CHECK(q->sql.find("pragma_index_xinfo(?1)") != std::string::npos);
  CHECK(q->params == std::vector<Value>{Value("ix_t")});
  plan.feed(rows({"name"}, {{std::string("title")}}));
  q = plan.next();
  REQUIRE(q);
  plan.feed(rows({"name"}, {{std::string("title")}}));
  CHECK_FALSE(plan.next());

  auto tables = plan.take();
  REQUIRE(tables.size() == 1);
  const TableSchema& t = tables[0];
  CHECK(t.name == "books");
  REQUIRE(t.columns.size() == 3);
  CHECK(t.columns[0].type == ColumnType::int64);
  CHECK(t.columns[0].identity);
  CHECK_FALSE(t.columns[0].nullable);
  CHECK(t.columns[1].max_length == 200);
  CHECK(t.columns[1].server_default == std::optional<std::string>("'x'"));
  CHECK(t.columns[2].type == ColumnType::decimal);
  CHECK(t.columns[2].precision == 12);
  CHECK(t.columns[2].scale == 2);
  CHECK(t.primary_key == std::vector<std::string>{"id"});
  REQUIRE(t.indexes.size() == 1);
  CHECK(t.indexes[0].columns == std::vector<std::string>{"title"});
  REQUIRE(t.uniques.size() == 1);
  REQUIRE(t.foreign_keys.size() == 1);
  CHECK(t.foreign_keys[0].on_delete == FkAction::cascade);
}

TEST_CASE("postgresql inspection plan asks the catalogs with one array parameter", "[sql][inspect]") {
  InspectPlan plan(Dialect::postgresql);
  auto q = plan.next();
  REQUIRE(q);
  CHECK(q->sql.find("pg_catalog.pg_class") != std::string::npos);
  plan.feed(rows({"relname"}, {{std::string("t1")}}));
  int queries = 0;
  while (auto next = plan.next()) {
    ++queries;
    CHECK(next->sql.find("ANY($1::text[])") != std::string::npos);
    REQUIRE(next->params.size() == 1);
    plan.feed(Result(std::make_shared<BufferedResultSet>(std::vector<std::string>{"x"})));
  }
  CHECK(queries == 3);
  auto tables = plan.take();
  REQUIRE(tables.size() == 1);
  CHECK(tables[0].name == "t1");
}

TEST_CASE("schemas compare without constraint names or checks", "[sql][inspect][schema]") {
  TableSchema a = table_info<test_models::Book>().schema(Dialect::sqlite);
  TableSchema b = a;
  for (auto& fk : b.foreign_keys) fk.name = "whatever";
  for (auto& u : b.uniques) u.name = "sqlite_autoindex_books_1";
  b.checks.clear();
  CHECK(a == b);
  b.columns[1].nullable = true;
  CHECK_FALSE(a == b);
}
