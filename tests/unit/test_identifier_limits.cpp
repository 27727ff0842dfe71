// Names longer than the server keeps whole are refused when the statement is compiled, naming
// the limit, instead of being truncated by PostgreSQL (two long names alike in their first 63
// bytes would collide) or refused later by MySQL.
#include <catch2/catch.hpp>

#include <string>

#include "corm/core/dialect.hpp"
#include "corm/core/error.hpp"
#include "corm/sql.hpp"

using corm::Dialect;

namespace corm::identifier_test {
struct LongColumn {
  std::int64_t id{};
  int value{};
};
}  // namespace corm::identifier_test

template <>
struct corm::Model<corm::identifier_test::LongColumn> {
  using L = corm::identifier_test::LongColumn;
  static constexpr auto table = corm::table(
      "long_columns", corm::column("id", &L::id, corm::primary_key),
      corm::column("a_column_name_that_goes_on_and_on_well_past_what_postgres_keeps_x", &L::value));
};

TEST_CASE("PostgreSQL names are limited to 63 bytes, MySQL names to 64 characters", "[dialect][limits]") {
  const std::string pg_max(63, 'n');
  CHECK(corm::quote_identifier(Dialect::postgresql, pg_max) == "\"" + pg_max + "\"");
  try {
    (void)corm::quote_identifier(Dialect::postgresql, pg_max + "x");
    FAIL("a 64-byte name must be refused on PostgreSQL");
  } catch (const corm::ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("is 64 bytes long") && Catch::Contains("at most 63 bytes") &&
                             Catch::Contains("shorten"));
  }
  // 64 characters of two bytes each: 128 bytes, within MySQL's limit, past PostgreSQL's.
  std::string wide;
  for (int i = 0; i < 64; ++i) wide += "\xC3\xA9";  // é
  CHECK_NOTHROW(corm::quote_identifier(Dialect::mysql, wide));
  CHECK_THROWS_AS(corm::quote_identifier(Dialect::postgresql, wide), corm::ConfigError);
  CHECK_THROWS_WITH(corm::quote_identifier(Dialect::mysql, wide + "e"),
                    Catch::Contains("is 65 characters long") && Catch::Contains("at most 64 characters"));
  // SQLite keeps names of any length.
  CHECK_NOTHROW(corm::quote_identifier(Dialect::sqlite, std::string(300, 's')));
}

TEST_CASE("a mapped column name too long for PostgreSQL fails at compile time, not on the server",
          "[dialect][limits]") {
  using corm::identifier_test::LongColumn;
  auto stmt = corm::select<LongColumn>();
  CHECK_NOTHROW(stmt.compile(Dialect::sqlite));
  CHECK_THROWS_WITH(stmt.compile(Dialect::postgresql), Catch::Contains("at most 63 bytes"));
}
