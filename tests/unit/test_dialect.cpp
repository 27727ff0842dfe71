#include <catch2/catch.hpp>

#include "corm/core/dialect.hpp"
#include "corm/core/error.hpp"

using corm::Dialect;

TEST_CASE("dialect names are the URL scheme spellings", "[dialect]") {
  CHECK(corm::dialect_name(Dialect::postgresql) == "postgresql");
  CHECK(corm::dialect_name(Dialect::sqlite) == "sqlite");
}

TEST_CASE("quote_identifier wraps in double quotes and doubles embedded quotes on both dialects",
          "[dialect]") {
  for (auto d : {Dialect::postgresql, Dialect::sqlite}) {
    CHECK(corm::quote_identifier(d, "user") == "\"user\"");
    CHECK(corm::quote_identifier(d, "we\"ird") == "\"we\"\"ird\"");
    CHECK(corm::quote_identifier(d, "\"") == "\"\"\"\"");
    CHECK(corm::quote_identifier(d, "Mixed Case; DROP") == "\"Mixed Case; DROP\"");
  }
}

TEST_CASE("quote_identifier rejects empty names and NUL bytes with ConfigError", "[dialect]") {
  CHECK_THROWS_AS(corm::quote_identifier(Dialect::postgresql, ""), corm::ConfigError);
  CHECK_THROWS_AS(corm::quote_identifier(Dialect::sqlite, std::string_view("a\0b", 3)), corm::ConfigError);
}

TEST_CASE("placeholders are numbered on both dialects", "[dialect]") {
  std::string pg = "a = ", lite = "a = ";
  corm::append_placeholder(pg, Dialect::postgresql, 1);
  corm::append_placeholder(lite, Dialect::sqlite, 12);
  CHECK(pg == "a = $1");
  CHECK(lite == "a = ?12");
}
