// Binary result format: a prepared statement's first run returns text (its column types are not
// known yet); once they are, later runs ask for binary when every column has a binary reader.
// Every value must read back the same either way — the typed reads, get<std::string> (which
// must spell the value as the server's text output would), and the errors.
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <corm/asyncio.hpp>
#include <corm/corm.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "support/async_test.hpp"
#include "support/test_db.hpp"

using namespace corm;
namespace asio = boost::asio;
using asio::awaitable;

namespace {

// One column per case: every supported type, with the edges of each wire format (negative and
// pre-2000 values, BC dates, infinities, NaN, fractions that do not fill a base-10000 digit,
// trailing blanks of char(n), a jsonb whose text the server normalises).
const char* const all_types_sql =
    "SELECT true, false, '\\x00ff10'::bytea, ''::bytea, 32767::int2, (-32768)::int2, (-2147483648)::int4, "
    "9223372036854775807::int8, (-1)::int8, 4000000000::oid, "
    "0.1::float4, 1234567::float4, 123456::float4, 1e20::float8, 1.5e-7::float8, 0.0001::float8, "
    "123456789012345::float8, 'NaN'::float8, '-Infinity'::float8, '-0'::float8, 2::float8, "
    "'héllo'::text, 'ab'::char(4), 'x'::varchar, 'pg_class'::name, '{\"a\": [1, 2]}'::json, "
    "'{\"b\": 1, \"a\": [1, 2]}'::jsonb, "
    "'2000-01-01'::date, '1999-12-31'::date, '0044-03-15 BC'::date, '12345-06-07'::date, "
    "'2024-02-29 13:45:01.5'::timestamp, '1969-07-20 20:17:40'::timestamp, "
    "'1999-12-31 23:59:59.999999'::timestamp, '0001-01-01 00:00:00 BC'::timestamp, "
    "'2024-02-29 13:45:01.123+00'::timestamptz, '1900-01-01 00:00:00.000001+00'::timestamptz, "
    "0::numeric, (-12.3400)::numeric, 0.00012::numeric, 10000::numeric, 1.0001::numeric, "
    "123456789012345678901234567890.000000001::numeric, (-0.5)::numeric(10, 4), 'NaN'::numeric, "
    "'Infinity'::numeric, '-Infinity'::numeric, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, "
    "9223372036854775807::numeric, (-9223372036854775808)::numeric, 9223372036854775808::numeric, "
    "12345678.90123456789::numeric, 0.000000000000000000001::numeric, 1e30::numeric, 5::numeric(10, 6), "
    "(-0.00)::numeric(6, 2)";

// Everything a column can be read as, spelled out, so the two runs compare as strings.
std::string typed_reads(const Row& row, std::size_t col) {
  std::string out;
  auto attempt = [&](const char* what, const std::function<std::string()>& read) {
    out += what;
    out += '=';
    try {
      out += read();
    } catch (const DataError& e) {
      out += std::string("DataError(") + e.what() + ")";
    }
    out += "; ";
  };
  attempt("string", [&] { return row.get<std::string>(col); });
  attempt("int64", [&] { return std::to_string(row.get<std::int64_t>(col)); });
  attempt("int16", [&] { return std::to_string(row.get<std::int16_t>(col)); });
  attempt("double", [&] {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", row.get<double>(col));
    return std::string(buf);
  });
  attempt("bool", [&] { return std::string(row.get<bool>(col) ? "true" : "false"); });
  attempt("decimal", [&] { return row.get<Decimal>(col).str(); });
  attempt("uuid", [&] { return row.get<Uuid>(col).str(); });
  attempt("timestamp", [&] { return std::to_string(row.get<Timestamp>(col).time_since_epoch().count()); });
  attempt("date", [&] { return std::to_string(row.get<Date>(col).time_since_epoch().count()); });
  attempt("bytes", [&] { return std::to_string(row.get<Bytes>(col).size()) + " bytes"; });
  attempt("json", [&] { return row.get<Json>(col).text; });
  return out;
}

}  // namespace

TEST_CASE("every supported type reads the same from a statement's text run and its binary runs", "[pg][binary]") {
  auto engine = create_engine(test::pg_url());
  auto c = engine.connect();
  const auto stmt = text(all_types_sql);
  const Result first = c.execute(stmt, {});
  const Result second = c.execute(stmt, {});
  const Result third = c.execute(stmt, {});
  const Row r1 = first.one(), r2 = second.one(), r3 = third.one();
  REQUIRE(r1.size() == r2.size());

  // The first run is text throughout; the later runs are binary (no column left as text but
  // the text-like ones, which have the same bytes in both formats).
  CHECK(r1.cell(0).kind == Cell::Kind::text);
  CHECK(r2.cell(0).kind == Cell::Kind::blob);       // boolean
  CHECK(r2.cell(4).kind == Cell::Kind::integer);    // int2
  CHECK(r2.cell(13).kind == Cell::Kind::real);      // float8
  CHECK(r2.cell(21).kind == Cell::Kind::text);      // text

  for (std::size_t col = 0; col < r1.size(); ++col) {
    INFO("column " << col << ": text run reads " << typed_reads(r1, col));
    CHECK(typed_reads(r2, col) == typed_reads(r1, col));
    CHECK(typed_reads(r3, col) == typed_reads(r1, col));
  }

  // Spot checks that the shared reading is the right one, not merely the same one.
  CHECK(r2.get<bool>(0));
  CHECK(r2.get<Bytes>(2) == Bytes{std::byte{0x00}, std::byte{0xff}, std::byte{0x10}});
  CHECK(r2.get<std::string>(2) == "\\x00ff10");
  CHECK(r2.get<std::int64_t>(7) == 9223372036854775807);
  CHECK(r2.get<std::int64_t>(9) == 4000000000);
  CHECK(r2.get<double>(10) == 0.1);  // float4 0.1 reads as 0.1, as its text does
  CHECK(r2.get<std::string>(11) == "1.234567e+06");
  CHECK(r2.get<std::string>(14) == "1.5e-07");
  CHECK(r2.get<std::string>(15) == "0.0001");
  CHECK(r2.get<std::string>(22) == "ab  ");
  CHECK(r2.get<std::string>(26) == "{\"a\": [1, 2], \"b\": 1}");
  CHECK(r2.get<std::string>(29) == "0044-03-15 BC");
  CHECK(r2.get<std::string>(31) == "2024-02-29 13:45:01.5");
  CHECK(r2.get<Timestamp>(32).time_since_epoch().count() == -14182940LL * 1'000'000);
  CHECK(r2.get<std::string>(35) == "2024-02-29 13:45:01.123+00");
  CHECK(r2.get<std::string>(38) == "-12.3400");
  CHECK(r2.get<std::string>(39) == "0.00012");
  CHECK(r2.get<std::string>(42) == "123456789012345678901234567890.000000001");
  CHECK(r2.get<std::string>(43) == "-0.5000");
  CHECK(r2.get<std::string>(45) == "Infinity");
  CHECK(r2.get<Uuid>(47).str() == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  // Numerics at and past the edge of 64-bit units (held as integer and scale up to it, as text past it).
  CHECK(r2.get<Decimal>(48).scaled(0) == std::numeric_limits<std::int64_t>::max());
  CHECK(r2.get<Decimal>(49).scaled(0) == std::numeric_limits<std::int64_t>::min());
  CHECK(r2.get<Decimal>(50).str() == "9223372036854775808");
  CHECK(r2.get<Decimal>(50).scaled(0) == std::nullopt);
  CHECK(r2.get<Decimal>(51).str() == "12345678.90123456789");
  CHECK(r2.get<Decimal>(52).scaled(21) == 1);
  CHECK(r2.get<Decimal>(53).str() == "1000000000000000000000000000000");
  CHECK(r2.get<Decimal>(54).str() == "5.000000");
  CHECK(r2.get<Decimal>(55).str() == "0.00");
  CHECK(r2.get<Decimal>(55) == Decimal("0"));
}

TEST_CASE("binary reads keep the text run's errors for values with no C++ counterpart", "[pg][binary]") {
  auto engine = create_engine(test::pg_url());
  auto c = engine.connect();
  const auto stmt = text("SELECT 'infinity'::date, '-infinity'::timestamptz, 70000::int4");
  std::vector<std::string> messages;
  for (int run = 0; run < 2; ++run) {
    const Row row = c.execute(stmt, {}).one();
    CHECK_THROWS_AS(row.get<Date>(0), DataError);
    try {
      (void)row.get<Timestamp>(1);
      FAIL("an infinite timestamp was read");
    } catch (const DataError& e) {
      messages.emplace_back(e.what());
    }
    try {
      (void)row.get<std::int16_t>(2);
      FAIL("70000 was read into int16");
    } catch (const DataError& e) {
      messages.emplace_back(e.what());
    }
    CHECK(row.get<std::string>(0) == "infinity");
  }
  REQUIRE(messages.size() == 4);
  CHECK(messages[2] == messages[0]);
  CHECK(messages[3] == messages[1]);
  CHECK_THAT(messages[0], Catch::Contains("infinite timestamps"));
  CHECK_THAT(messages[1], Catch::Contains("does not fit in int16"));
}

TEST_CASE("a statement with a column corm has no binary reader for stays in text", "[pg][binary]") {
  auto engine = create_engine(test::pg_url());
  auto c = engine.connect();
  const auto stmt = text("SELECT 1::int4, interval '1 day 02:00', ARRAY[1, 2]::int8[]");
  for (int run = 0; run < 3; ++run) {
    const Row row = c.execute(stmt, {}).one();
    INFO("run " << run);
    CHECK(row.cell(0).kind == Cell::Kind::text);
    CHECK(row.get<std::string>(1) == "1 day 02:00:00");
    CHECK(row.get<std::string>(2) == "{1,2}");
  }
}

TEST_CASE("a batch's RETURNING and later queries read binary results", "[pg][binary][async]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::pg_url());
    auto conn = co_await engine.connect();
    co_await conn.execute_script(
        "CREATE TEMP TABLE bin_t (id bigserial PRIMARY KEY, k uuid NOT NULL, at timestamptz NOT NULL, "
        "amount numeric(12, 2) NOT NULL)");
    const auto key = [](std::size_t i) { return Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd38000" + std::to_string(i % 5)); };
    std::vector<Params> rows;
    for (std::size_t i = 0; i < 5; ++i)
      rows.push_back({{"k", key(i)},
                      {"at", Timestamp(std::chrono::seconds(1'700'000'000 + static_cast<int>(i)))},
                      {"amount", Decimal(std::to_string(i) + ".25")}});
    const auto insert = text("INSERT INTO bin_t (k, at, amount) VALUES (:k, :at, :amount) RETURNING id, k, amount");
    std::vector<std::int64_t> ids;
    for (int pass = 0; pass < 2; ++pass) {  // the second batch runs prepared, with binary results
      auto results = co_await conn.execute_many(insert, rows);
      for (const Result& res : results) {
        const Row row = res.one();
        CHECK((pass == 0 ? row.cell(1).kind == Cell::Kind::text : row.cell(1).kind == Cell::Kind::blob));
        CHECK(row.get<Uuid>(1) == key(ids.size()));
        CHECK(row.get<Decimal>(2).str() == std::to_string(ids.size() % 5) + ".25");
        ids.push_back(row.get<std::int64_t>(0));
      }
    }
    REQUIRE(ids.size() == 10);
    for (std::size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] == ids[i - 1] + 1);
    const auto totals = text("SELECT sum(amount), min(at), count(*) FROM bin_t");
    for (int run = 0; run < 2; ++run) {
      Result r = co_await conn.execute(totals);
      const Row row = r.one();
      CHECK(row.get<Decimal>(0).str() == "22.50");
      CHECK(row.get<Timestamp>(1) == Timestamp(std::chrono::seconds(1'700'000'000)));
      CHECK(row.get<std::int64_t>(2) == 10);
    }
    co_await conn.close();
  });
}
