#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "corm/core/codec.hpp"
#include "corm/core/error.hpp"

using namespace std::chrono;
using corm::Cell;
using corm::Codec;
using corm::DataError;
using Catch::Matchers::Contains;
namespace oid = corm::pg_oid;

namespace {
Cell null_cell() { return Cell{}; }
Cell int_cell(std::int64_t v) {
  Cell c;
  c.kind = Cell::Kind::integer;
  c.i = v;
  return c;
}
Cell real_cell(double v) {
  Cell c;
  c.kind = Cell::Kind::real;
  c.d = v;
  return c;
}
Cell text_cell(std::string_view s, std::uint32_t pg_type = 0) {
  Cell c;
  c.kind = Cell::Kind::text;
  c.s = s;
  c.pg_type = pg_type;
  return c;
}
Cell blob_cell(std::string_view s) {
  Cell c;
  c.kind = Cell::Kind::blob;
  c.s = s;
  return c;
}
template <class T>
T decode(const Cell& c) {
  return Codec<T>::decode(c);
}
corm::Timestamp ts(int y, unsigned m, unsigned d, int hh = 0, int mi = 0, int ss = 0, int us = 0) {
  return corm::Timestamp{sys_days{year{y} / m / d}} + hours{hh} + minutes{mi} + seconds{ss} + microseconds{us};
}
}  // namespace

TEST_CASE("booleans decode from PostgreSQL 't'/'f' and SQLite 0/1", "[codec]") {
  CHECK(decode<bool>(text_cell("t", oid::boolean)));
  CHECK_FALSE(decode<bool>(text_cell("f", oid::boolean)));
  CHECK(decode<bool>(int_cell(1)));
  CHECK_FALSE(decode<bool>(int_cell(0)));
  CHECK_THROWS_WITH(decode<bool>(int_cell(2)), Contains("integer 2") && Contains("bool"));
  CHECK_THROWS_AS(decode<bool>(text_cell("yes")), DataError);
  CHECK(Codec<bool>::encode(true) == corm::Value(true));
}

TEST_CASE("integers decode at the limits of every width from both drivers", "[codec][int]") {
  CHECK(decode<std::int16_t>(int_cell(-32768)) == -32768);
  CHECK(decode<std::int16_t>(int_cell(32767)) == 32767);
  CHECK(decode<std::int16_t>(text_cell("-32768", oid::int2)) == -32768);
  CHECK(decode<std::int16_t>(text_cell("32767", oid::int2)) == 32767);
  CHECK(decode<std::int32_t>(text_cell("-2147483648", oid::int4)) == std::numeric_limits<std::int32_t>::min());
  CHECK(decode<std::int64_t>(int_cell(std::numeric_limits<std::int64_t>::min())) ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(decode<std::int64_t>(int_cell(std::numeric_limits<std::int64_t>::max())) ==
        std::numeric_limits<std::int64_t>::max());
  CHECK(decode<std::int64_t>(text_cell("-9223372036854775808", oid::int8)) ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(decode<std::int64_t>(text_cell("9223372036854775807", oid::int8)) ==
        std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("an integer too wide for the target throws DataError naming the value and the type",
          "[codec][int]") {
  CHECK_THROWS_AS(decode<std::int16_t>(int_cell(32768)), DataError);
  CHECK_THROWS_WITH(decode<std::int16_t>(int_cell(32768)), Contains("value 32768") && Contains("int16"));
  CHECK_THROWS_WITH(decode<std::int16_t>(int_cell(-32769)), Contains("-32769") && Contains("int16"));
  CHECK_THROWS_WITH(decode<std::int32_t>(text_cell("2147483648", oid::int8)),
                    Contains("value 2147483648") && Contains("int32"));
  CHECK_THROWS_WITH(decode<std::int64_t>(text_cell("9223372036854775808", oid::numeric)),
                    Contains("9223372036854775808") && Contains("int64"));
}

TEST_CASE("integer text that does not parse throws DataError quoting the text", "[codec][int]") {
  CHECK_THROWS_WITH(decode<int>(text_cell("12x")), Contains("'12x'") && Contains("int32"));
  CHECK_THROWS_AS(decode<int>(text_cell("")), DataError);
  CHECK_THROWS_AS(decode<int>(text_cell(" 1")), DataError);
  CHECK_THROWS_AS(decode<int>(text_cell("1.5", oid::numeric)), DataError);
  CHECK_THROWS_AS(decode<int>(blob_cell("\x01")), DataError);
}

TEST_CASE("a long unparsable cell is quoted as a short excerpt", "[codec]") {
  const std::string huge(10'000, 'z');
  try {
    (void)decode<std::int64_t>(text_cell(huge));
    FAIL("expected DataError");
  } catch (const DataError& e) {
    const std::string msg = e.what();
    CHECK(msg.find(std::string(41, 'z')) == std::string::npos);
    CHECK(msg.find("zzz...'") != std::string::npos);
    CHECK(msg.size() < 200);
  }
}

TEST_CASE("whole reals decode as integers, fractions are refused", "[codec][int]") {
  CHECK(decode<int>(real_cell(42.0)) == 42);
  CHECK_THROWS_WITH(decode<int>(real_cell(2.5)), Contains("whole number"));
  CHECK_THROWS_AS(decode<std::int64_t>(real_cell(1e19)), DataError);
  CHECK_THROWS_AS(decode<std::int64_t>(real_cell(NAN)), DataError);
}

TEST_CASE("NULL into a non-optional type names the fix; optional reads it as nullopt", "[codec][null]") {
  CHECK_THROWS_WITH(decode<std::int64_t>(null_cell()),
                    Contains("NULL cannot be read into int64") && Contains("std::optional<int64>"));
  CHECK_THROWS_AS(decode<std::string>(null_cell()), DataError);
  CHECK_THROWS_AS(decode<bool>(null_cell()), DataError);
  CHECK_THROWS_AS(decode<double>(null_cell()), DataError);
  CHECK_THROWS_AS(decode<corm::Bytes>(null_cell()), DataError);
  CHECK_THROWS_AS(decode<corm::Timestamp>(null_cell()), DataError);
  CHECK_THROWS_AS(decode<corm::Date>(null_cell()), DataError);
  CHECK_THROWS_AS(decode<corm::Decimal>(null_cell()), DataError);
  CHECK_THROWS_AS(decode<corm::Uuid>(null_cell()), DataError);
  CHECK(decode<std::optional<int>>(null_cell()) == std::nullopt);
  CHECK(decode<std::optional<int>>(int_cell(7)) == 7);
  CHECK(decode<std::optional<std::string>>(text_cell("x")) == "x");
  CHECK(corm::to_value(std::optional<int>{}).is_null());
  CHECK(corm::to_value(std::optional<int>{3}) == corm::Value(3));
}

TEST_CASE("doubles decode from reals, integers and PostgreSQL float text incl. NaN and Infinity",
          "[codec][double]") {
  CHECK(decode<double>(real_cell(2.5)) == 2.5);
  CHECK(decode<double>(int_cell(3)) == 3.0);
  CHECK(decode<double>(text_cell("1.5e-3", oid::float8)) == 1.5e-3);
  CHECK(decode<double>(text_cell("-0.1", oid::float8)) == -0.1);
  CHECK(std::isnan(decode<double>(text_cell("NaN", oid::float8))));
  CHECK(decode<double>(text_cell("Infinity", oid::float8)) == INFINITY);
  CHECK(decode<double>(text_cell("-Infinity", oid::float8)) == -INFINITY);
  CHECK(decode<double>(text_cell("1.7976931348623157e+308", oid::float8)) == std::numeric_limits<double>::max());
  CHECK_THROWS_WITH(decode<double>(text_cell("abc")), Contains("'abc'") && Contains("double"));
  CHECK_THROWS_AS(decode<double>(text_cell("1e999")), DataError);
  CHECK(decode<float>(real_cell(0.5)) == 0.5f);
  CHECK_THROWS_WITH(decode<float>(real_cell(1e300)), Contains("float"));
}

TEST_CASE("strings decode from text, and SQLite numbers read as their SQL text", "[codec][string]") {
  CHECK(decode<std::string>(text_cell("héllo ✓")) == "héllo ✓");
  CHECK(decode<std::string>(text_cell(std::string_view("a\0b", 3))) == std::string("a\0b", 3));
  CHECK(decode<std::string>(int_cell(-42)) == "-42");
  CHECK(decode<std::string>(real_cell(2.0)) == "2.0");
  CHECK(decode<std::string>(real_cell(0.1)) == "0.1");
  CHECK_THROWS_WITH(decode<std::string>(blob_cell("x")), Contains("corm::Bytes"));
  CHECK(decode<corm::Json>(text_cell("{\"a\": 1}", oid::jsonb)).text == "{\"a\": 1}");
}

TEST_CASE("bytes decode from SQLite blobs with NUL bytes and PostgreSQL hex bytea", "[codec][bytes]") {
  const auto b = decode<corm::Bytes>(blob_cell(std::string_view("\x00\xff\x01", 3)));
  REQUIRE(b.size() == 3);
  CHECK(b[0] == std::byte{0});
  CHECK(b[1] == std::byte{0xff});
  const auto h = decode<corm::Bytes>(text_cell("\\x0a0BfF", oid::bytea));
  CHECK(h == corm::Bytes{std::byte{0x0a}, std::byte{0x0b}, std::byte{0xff}});
  CHECK(decode<corm::Bytes>(text_cell("\\x", oid::bytea)).empty());
  CHECK(decode<corm::Bytes>(blob_cell("")).empty());
  CHECK_THROWS_WITH(decode<corm::Bytes>(text_cell("\\x0g", oid::bytea)), Contains("hex"));
  CHECK_THROWS_WITH(decode<corm::Bytes>(text_cell("abc", oid::bytea)), Contains("bytea_output"));
}

TEST_CASE("PostgreSQL timestamptz text decodes to UTC whatever the offset", "[codec][time]") {
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01 12:34:56.123456+00", oid::timestamptz)) ==
        ts(2024, 3, 1, 12, 34, 56, 123456));
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01 18:04:56+05:30", oid::timestamptz)) ==
        ts(2024, 3, 1, 12, 34, 56));
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01 04:34:56.5-08", oid::timestamptz)) ==
        ts(2024, 3, 1, 12, 34, 56, 500000));
  CHECK(decode<corm::Timestamp>(text_cell("1900-01-01 00:00:00+00:53:28", oid::timestamptz)) ==
        ts(1899, 12, 31, 23, 6, 32));
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01 12:00:00", oid::timestamp)) == ts(2024, 3, 1, 12));
  CHECK(decode<corm::Timestamp>(text_cell("0044-03-15 12:00:00+00 BC", oid::timestamptz)) ==
        ts(-43, 3, 15, 12));
  CHECK(decode<corm::Timestamp>(text_cell("1969-12-31 23:59:59.999999+00", oid::timestamptz)) ==
        corm::Timestamp{microseconds{-1}});
  CHECK_THROWS_WITH(decode<corm::Timestamp>(text_cell("infinity", oid::timestamptz)), Contains("infinite"));
}

TEST_CASE("SQLite timestamps decode from corm's text, ISO variants and unix seconds", "[codec][time]") {
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01 12:34:56.123456")) == ts(2024, 3, 1, 12, 34, 56, 123456));
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01T12:34:56Z")) == ts(2024, 3, 1, 12, 34, 56));
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01T12:34:56.1")) == ts(2024, 3, 1, 12, 34, 56, 100000));
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01 12:34")) == ts(2024, 3, 1, 12, 34));
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01 12:34:56.1234567")) == ts(2024, 3, 1, 12, 34, 56, 123456));
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01T14:34:56+0200")) == ts(2024, 3, 1, 12, 34, 56));
  CHECK(decode<corm::Timestamp>(text_cell("2024-03-01")) == ts(2024, 3, 1));
  CHECK(decode<corm::Timestamp>(int_cell(1'700'000'000)) == corm::Timestamp{seconds{1'700'000'000}});
  CHECK(decode<corm::Timestamp>(int_cell(-1)) == corm::Timestamp{seconds{-1}});
}

TEST_CASE("malformed or impossible timestamps throw DataError quoting the text", "[codec][time]") {
  for (const char* bad : {"2024-02-30 00:00:00", "2023-02-29", "2024-13-01 00:00:00", "2024-01-01 24:00:00",
                          "2024-01-01 12:60:00", "2024-1-01 00:00:00", "24-01-01", "2024-01-01 12",
                          "2024-01-01 12:00:00 junk", "2024-01-01-05", "2024-01-01 12:00:00+", "yesterday", ""}) {
    INFO(bad);
    CHECK_THROWS_AS(decode<corm::Timestamp>(text_cell(bad)), DataError);
  }
  CHECK_THROWS_WITH(decode<corm::Timestamp>(text_cell("yesterday")), Contains("'yesterday'") && Contains("Timestamp"));
  CHECK_THROWS_AS(decode<corm::Timestamp>(real_cell(1.5)), DataError);
}

TEST_CASE("dates decode from 'YYYY-MM-DD' on both drivers and reject anything else", "[codec][time]") {
  CHECK(decode<corm::Date>(text_cell("2024-02-29", oid::date)) == sys_days{2024y / 2 / 29});
  CHECK(decode<corm::Date>(text_cell("1970-01-01")) == sys_days{});
  CHECK(decode<corm::Date>(text_cell("0001-01-01 BC", oid::date)) == sys_days{year{0} / 1 / 1});
  CHECK_THROWS_WITH(decode<corm::Date>(text_cell("2023-02-29")), Contains("'2023-02-29'") && Contains("Date"));
  CHECK_THROWS_AS(decode<corm::Date>(text_cell("2024-01-01 00:00:00")), DataError);
  CHECK_THROWS_AS(decode<corm::Date>(int_cell(20240101)), DataError);
}

TEST_CASE("decimals decode from numeric text and from SQLite integers and reals", "[codec][decimal]") {
  CHECK(decode<corm::Decimal>(text_cell("-12.3400", oid::numeric)).str() == "-12.3400");
  CHECK(decode<corm::Decimal>(text_cell("NaN", oid::numeric)).str() == "NaN");
  CHECK(decode<corm::Decimal>(text_cell("19.99")).str() == "19.99");
  CHECK(decode<corm::Decimal>(int_cell(std::numeric_limits<std::int64_t>::min())).str() == "-9223372036854775808");
  CHECK(decode<corm::Decimal>(real_cell(19.99)).str() == "19.99");
  CHECK(decode<corm::Decimal>(real_cell(2.0)).str() == "2.0");
  CHECK(decode<corm::Decimal>(real_cell(0.1)).str() == "0.1");
  CHECK(decode<corm::Decimal>(real_cell(1e20)).str() == "100000000000000000000.0");
  CHECK(decode<corm::Decimal>(real_cell(1.5e-7)).str() == "0.00000015");
  CHECK(decode<corm::Decimal>(real_cell(-123456.789)).str() == "-123456.789");
  CHECK_THROWS_WITH(decode<corm::Decimal>(text_cell("12,5")), Contains("'12,5'") && Contains("Decimal"));
  CHECK_THROWS_AS(decode<corm::Decimal>(blob_cell("1")), DataError);
}

namespace {
// A PostgreSQL binary numeric (numeric_send's layout: ndigits, weight, sign, dscale, then the
// base-10000 digits, all big-endian) decoded as a Decimal.
corm::Decimal numeric_wire(int weight, std::uint16_t sign, int dscale, std::vector<int> digits) {
  std::string bytes;
  auto u16 = [&bytes](int v) {
    bytes += static_cast<char>((v >> 8) & 0xff);
    bytes += static_cast<char>(v & 0xff);
  };
  u16(static_cast<int>(digits.size()));
  u16(weight);
  u16(sign);
  u16(dscale);
  for (int d : digits) u16(d);
  Cell c = blob_cell(bytes);
  c.pg_type = oid::numeric;
  return decode<corm::Decimal>(c);
}
}  // namespace

TEST_CASE("decimals decode from PostgreSQL's binary numeric, narrow ones without their text", "[codec][decimal]") {
  constexpr std::uint16_t pos = 0x0000, neg = 0x4000;
  CHECK(numeric_wire(0, pos, 0, {}).str() == "0");
  CHECK(numeric_wire(0, pos, 2, {}).str() == "0.00");
  CHECK(numeric_wire(1, pos, 2, {1, 2345, 6700}).str() == "12345.67");
  CHECK(numeric_wire(1, pos, 2, {1, 2345, 6700}).scaled(2) == 1234567);
  CHECK(numeric_wire(0, neg, 4, {12, 3400}).str() == "-12.3400");
  CHECK(numeric_wire(-1, pos, 5, {1, 2000}).str() == "0.00012");  // 0.0001 2000
  CHECK(numeric_wire(-6, pos, 21, {1000}).str() == "0.000000000000000000001");
  CHECK(numeric_wire(1, pos, 0, {1}).str() == "10000");  // digits past ndigits are zeros
  // numeric_out stops at dscale: the digits of a group past it are not printed.
  CHECK(numeric_wire(0, pos, 2, {1, 2345}).str() == "1.23");
  // The edges of 64 bits, and past them the text form.
  CHECK(numeric_wire(4, pos, 0, {922, 3372, 368, 5477, 5807}).str() == "9223372036854775807");
  CHECK(numeric_wire(4, pos, 0, {922, 3372, 368, 5477, 5807}).scaled(0) == std::numeric_limits<std::int64_t>::max());
  CHECK(numeric_wire(4, neg, 0, {922, 3372, 368, 5477, 5808}).str() == "-9223372036854775808");
  CHECK(numeric_wire(4, pos, 0, {922, 3372, 368, 5477, 5808}).str() == "9223372036854775808");
  CHECK(numeric_wire(4, pos, 0, {922, 3372, 368, 5477, 5808}).scaled(0) == std::nullopt);
  CHECK(numeric_wire(7, pos, 9, {12, 3456, 7890, 1234, 5678, 9012, 3456, 7890, 0, 0, 1000}).str() ==
        "123456789012345678901234567890.000000001");
  CHECK(numeric_wire(0, 0xC000, 0, {}).str() == "NaN");
  CHECK(numeric_wire(0, 0xD000, 0, {}).str() == "Infinity");
  CHECK(numeric_wire(0, 0xF000, 0, {}).str() == "-Infinity");
  CHECK_THROWS_AS(numeric_wire(0, pos, 0, {10000}), DataError);  // not a base-10000 digit
  CHECK_THROWS_AS(numeric_wire(0, 0x1234, 0, {1}), DataError);   // not a sign numeric_send writes
}

TEST_CASE("uuids decode from text and from a 16-byte blob", "[codec][uuid]") {
  const corm::Uuid expected("123e4567-e89b-12d3-a456-426614174000");
  CHECK(decode<corm::Uuid>(text_cell("123e4567-e89b-12d3-a456-426614174000", oid::uuid)) == expected);
  const std::string raw(reinterpret_cast<const char*>(expected.bytes().data()), 16);
  CHECK(decode<corm::Uuid>(blob_cell(raw)) == expected);
  CHECK_THROWS_WITH(decode<corm::Uuid>(text_cell("not-a-uuid")), Contains("'not-a-uuid'") && Contains("Uuid"));
  CHECK_THROWS_AS(decode<corm::Uuid>(blob_cell("short")), DataError);
}

TEST_CASE("describe_cell names the storage class and a short excerpt", "[codec]") {
  CHECK(corm::detail::describe_cell(null_cell()) == "NULL");
  CHECK(corm::detail::describe_cell(int_cell(300)) == "integer 300");
  CHECK(corm::detail::describe_cell(real_cell(2.5)) == "real 2.5");
  CHECK(corm::detail::describe_cell(text_cell("12x")) == "text '12x'");
  CHECK(corm::detail::describe_cell(text_cell("12x", oid::numeric)) == "text '12x' (PostgreSQL numeric)");
  CHECK(corm::detail::describe_cell(blob_cell("abcd")) == "blob of 4 bytes");
  CHECK(corm::detail::describe_cell(text_cell("a\nb")) == "text 'a?b'");
}

TEST_CASE("system_clock time points travel as microsecond timestamps", "[codec][time]") {
  const auto now = system_clock::time_point{nanoseconds{1'700'000'000'123'456'789}};
  const corm::Value v = Codec<system_clock::time_point>::encode(now);
  CHECK(std::get<corm::Timestamp>(v.storage()) == corm::Timestamp{microseconds{1'700'000'000'123'456}});
  CHECK(Codec<system_clock::time_point>::decode(text_cell("2023-11-14 22:13:20.123456")) ==
        system_clock::time_point{microseconds{1'700'000'000'123'456}});
}
