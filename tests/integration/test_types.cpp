// Every mapped C++ type survives a round trip through a real database, NULLs and limits
// included, and values that do not fit are refused with a message naming column and types.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include <cstdint>
#include <limits>

#include "support/test_db.hpp"

using namespace corm;
using namespace std::chrono;

namespace {

std::string create_types_table(Connection& conn) {
  const auto q = quote_identifier(conn.dialect(), test::unique_name("types"));
  if (test::is_postgres()) {
    conn.execute_script("CREATE TABLE " + q + " (id bigint PRIMARY KEY, b boolean, i16 smallint, i32 integer, "
                        "i64 bigint, f real, d double precision, s text, bin bytea, ts timestamptz, dt date, "
                        "num numeric(40,10), u uuid, j jsonb)");
  } else if (test::is_mysql()) {
    conn.execute_script("CREATE TABLE " + q + " (id BIGINT PRIMARY KEY, b BOOLEAN, i16 SMALLINT, i32 INT, "
                        "i64 BIGINT, f FLOAT, d DOUBLE, s LONGTEXT, bin LONGBLOB, ts DATETIME(6), dt DATE, "
                        "num DECIMAL(40,10), u CHAR(36), j JSON) CHARACTER SET utf8mb4");
  } else {
    conn.execute_script("CREATE TABLE " + q + " (id INTEGER PRIMARY KEY, b BOOLEAN, i16 SMALLINT, i32 INTEGER, "
                        "i64 BIGINT, f REAL, d DOUBLE, s TEXT, bin BLOB, ts TIMESTAMP, dt DATE, "
                        "num TEXT, u CHAR(36), j JSON)");  // NUMERIC affinity would round: corm maps Decimal to TEXT
  }
  return q;
}

const char* insert_sql =
    "INSERT INTO {} VALUES (:id, :b, :i16, :i32, :i64, :f, :d, :s, :bin, :ts, :dt, :num, :u, :j)";

}  // namespace

TEST_CASE("every supported type round-trips with its limits", "[types]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  const auto q = create_types_table(conn);

  const Timestamp ts = sys_days{2024y / March / 1} + 12h + 34min + 56s + 123456us;
  const Date dt = sys_days{1999y / December / 31};
  const Bytes bin{std::byte{0}, std::byte{1}, std::byte{0xff}, std::byte{0}};
  const std::string s = "Kim's \"quoted\" — 한국어 \\ backslash";
  const Decimal num("123456789012345678901234567890.0123456789");
  const Uuid u("123e4567-e89b-12d3-a456-426614174000");

  std::string sql = insert_sql;
  sql.replace(sql.find("{}"), 2, q);
  conn.execute(text(sql), {{"id", 1}, {"b", true}, {"i16", std::numeric_limits<std::int16_t>::min()},
                          {"i32", std::numeric_limits<std::int32_t>::max()},
                          {"i64", std::numeric_limits<std::int64_t>::min()}, {"f", 1.5f}, {"d", 2.718281828459045},
                          {"s", s}, {"bin", bin}, {"ts", ts}, {"dt", dt}, {"num", num}, {"u", u},
                          {"j", Json{R"({"a": [1, 2]})"}}});
  conn.commit();

  auto row = conn.execute(text("SELECT b, i16, i32, i64, f, d, s, bin, ts, dt, num, u, j FROM " + q + " WHERE id = :id"),
                          {{"id", 1}})
                 .one();
  CHECK(row.get<bool>(0) == true);
  CHECK(row.get<std::int16_t>(1) == std::numeric_limits<std::int16_t>::min());
  CHECK(row.get<std::int32_t>(2) == std::numeric_limits<std::int32_t>::max());
  CHECK(row.get<std::int64_t>(3) == std::numeric_limits<std::int64_t>::min());
  CHECK(row.get<float>(4) == 1.5f);
  CHECK(row.get<double>(5) == 2.718281828459045);
  CHECK(row.get<std::string>(6) == s);
  CHECK(row.get<Bytes>(7) == bin);
  CHECK(row.get<Timestamp>(8) == ts);
  CHECK(row.get<system_clock::time_point>(8) == system_clock::time_point(ts));
  CHECK(row.get<Date>(9) == dt);
  CHECK(row.get<Decimal>(10).str() == num.str());
  CHECK(row.get<Uuid>(11) == u);
  CHECK(row.get<Json>(12).text.find("\"a\"") != std::string::npos);
}

TEST_CASE("NULL round-trips through std::optional and is refused by plain types", "[types]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  const auto q = create_types_table(conn);
  conn.execute(text("INSERT INTO " + q + " (id, i32, s) VALUES (:id, :i, :s)"),
               {{"id", 1}, {"i", to_value(std::optional<int>{})}, {"s", to_value(std::optional<std::string>{})}});
  auto row = conn.execute(text("SELECT i32, s, ts FROM " + q)).one();
  CHECK(row.get<std::optional<int>>(0) == std::nullopt);
  CHECK(row.get<std::optional<std::string>>("s") == std::nullopt);
  CHECK(row.get<std::optional<Timestamp>>(2) == std::nullopt);
  try {
    (void)row.get<int>(0);
    FAIL("reading NULL into int must throw");
  } catch (const DataError& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("i32"));
    CHECK_THAT(msg, Catch::Contains("NULL"));
    CHECK_THAT(msg, Catch::Contains("optional"));
  }
}

TEST_CASE("a value too large for the C++ type is refused, naming the column and the type", "[types]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  const auto q = create_types_table(conn);
  conn.execute(text("INSERT INTO " + q + " (id, i64) VALUES (:id, :v)"),
               {{"id", 1}, {"v", std::int64_t{1} << 40}});
  auto row = conn.execute(text("SELECT i64 FROM " + q)).one();
  CHECK(row.get<std::int64_t>(0) == (std::int64_t{1} << 40));
  try {
    (void)row.get<std::int32_t>(0);
    FAIL("reading 2^40 into int32 must throw");
  } catch (const DataError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("i64") && Catch::Contains("int32"));
  }
}

TEST_CASE("bound parameters carrying SQL are stored verbatim and the table survives", "[types][injection]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  const auto q = create_types_table(conn);
  const std::vector<std::string> hostile = {
      "'; DROP TABLE " + q + "; --", "\"; DELETE FROM " + q + "; --", "' OR '1'='1", ":s", "$1", "?1",
      "\\'; SELECT pg_sleep(1); --", "Robert'); DROP TABLE students;--"};
  std::int64_t id = 0;
  for (const auto& h : hostile) conn.execute(text("INSERT INTO " + q + " (id, s) VALUES (:id, :s)"), {{"id", ++id}, {"s", h}});
  conn.commit();
  auto stored = conn.execute(text("SELECT s FROM " + q + " ORDER BY id")).scalars<std::string>();
  CHECK(stored == hostile);
  CHECK(conn.execute(text("SELECT count(*) FROM " + q)).scalar_one<std::int64_t>() ==
        static_cast<std::int64_t>(hostile.size()));
}
