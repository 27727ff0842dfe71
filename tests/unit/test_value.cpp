#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "corm/core/error.hpp"
#include "corm/core/value.hpp"

using corm::DataError;
using corm::Decimal;
using corm::Uuid;
using corm::Value;
using Catch::Matchers::Contains;

TEST_CASE("decimal accepts signed digits with an optional fraction and keeps the text", "[value][decimal]") {
  CHECK(Decimal("12.50").str() == "12.50");
  CHECK(Decimal("-3").str() == "-3");
  CHECK(Decimal("+7.25").str() == "7.25");
  CHECK(Decimal("0.001").str() == "0.001");
  CHECK(Decimal(".5").str() == ".5");
  CHECK(Decimal("5.").str() == "5.");
  CHECK(Decimal("123456789012345678901234567890.123456789").str() == "123456789012345678901234567890.123456789");
  CHECK(Decimal().str() == "0");
}

TEST_CASE("decimal rejects empty text, exponents, stray characters and lone signs", "[value][decimal]") {
  CHECK_THROWS_AS(Decimal(""), DataError);
  CHECK_THROWS_WITH(Decimal("1e3"), Contains("exponent"));
  CHECK_THROWS_AS(Decimal("1E-2"), DataError);
  CHECK_THROWS_AS(Decimal("-"), DataError);
  CHECK_THROWS_AS(Decimal("."), DataError);
  CHECK_THROWS_AS(Decimal("1.2.3"), DataError);
  CHECK_THROWS_AS(Decimal(" 1"), DataError);
  CHECK_THROWS_AS(Decimal("1,5"), DataError);
  CHECK_THROWS_AS(Decimal("0x10"), DataError);
  CHECK_THROWS_WITH(Decimal("12abc"), Contains("'12abc'"));
}

TEST_CASE("decimal accepts PostgreSQL's NaN and Infinity spellings", "[value][decimal]") {
  CHECK(Decimal("NaN").str() == "NaN");
  CHECK(Decimal("nan").str() == "NaN");
  CHECK(Decimal("Infinity").str() == "Infinity");
  CHECK(Decimal("-Infinity").str() == "-Infinity");
  CHECK(std::isnan(Decimal("NaN").to_double()));
  CHECK(Decimal("-Infinity").to_double() == -INFINITY);
}

TEST_CASE("decimal equality is numeric, not textual", "[value][decimal]") {
  CHECK(Decimal("1.50") == Decimal("1.5"));
  CHECK(Decimal("001") == Decimal("1.000"));
  CHECK(Decimal("-0.0") == Decimal("0"));
  CHECK(Decimal(".5") == Decimal("0.5"));
  CHECK_FALSE(Decimal("1.5") == Decimal("-1.5"));
  CHECK_FALSE(Decimal("10") == Decimal("1"));
  CHECK_FALSE(Decimal("0.1") == Decimal("0.01"));
  CHECK(Decimal("NaN") == Decimal("NaN"));
  CHECK_FALSE(Decimal("Infinity") == Decimal("-Infinity"));
}

TEST_CASE("decimal converts to the nearest double", "[value][decimal]") {
  CHECK(Decimal("12.5").to_double() == 12.5);
  CHECK(Decimal("-0.25").to_double() == -0.25);
  CHECK(Decimal("3").to_double() == 3.0);
}

TEST_CASE("decimal gives the number as a whole count of its smallest unit", "[value][decimal]") {
  constexpr auto max = std::numeric_limits<std::int64_t>::max(), min = std::numeric_limits<std::int64_t>::min();
  CHECK(Decimal("12.50").scaled(2) == 1250);
  CHECK(Decimal("12.5").scaled(2) == 1250);
  CHECK(Decimal("12.300").scaled(2) == 1230);  // trailing zeros are no lost precision
  CHECK(Decimal("-0.07").scaled(2) == -7);
  CHECK(Decimal("3").scaled(4) == 30000);
  CHECK(Decimal("12.345").scaled(2) == std::nullopt);  // not a whole number of cents
  CHECK(Decimal("9223372036854775807").scaled(0) == max);
  CHECK(Decimal("9223372036854775807").scaled(1) == std::nullopt);
  CHECK(Decimal("-9223372036854775808").scaled(0) == min);
  CHECK(Decimal("-922337203685477580.8").scaled(1) == min);
  CHECK(Decimal("9223372036854775808").scaled(0) == std::nullopt);
  CHECK(Decimal("123456789012345678901234567890").scaled(0) == std::nullopt);
  CHECK(Decimal("0.000000000000000000000000000").scaled(2) == 0);
  CHECK(Decimal("0.000000000000000000000000001").scaled(2) == std::nullopt);
  CHECK(Decimal("0").scaled(40) == 0);
  CHECK(Decimal(".5").scaled(1) == 5);
  CHECK(Decimal("-007.10").scaled(1) == -71);
  CHECK(Decimal("NaN").scaled(2) == std::nullopt);
  CHECK(Decimal("-Infinity").scaled(0) == std::nullopt);
  CHECK_THROWS_AS(Decimal("1").scaled(-1), corm::UsageError);
  CHECK_THROWS_WITH(Decimal("1").scaled(-1), Contains("0 or more"));
}

TEST_CASE("decimal from_scaled spells units and digits as text", "[value][decimal]") {
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  CHECK(Decimal::from_scaled(1250, 2).str() == "12.50");
  CHECK(Decimal::from_scaled(-5, 3).str() == "-0.005");
  CHECK(Decimal::from_scaled(0, 2).str() == "0.00");
  CHECK(Decimal::from_scaled(42, 0).str() == "42");
  CHECK(Decimal::from_scaled(min, 2).str() == "-92233720368547758.08");
  CHECK(Decimal::from_scaled(min, 0).str() == "-9223372036854775808");
  CHECK(Decimal::from_scaled(1250, 2) == Decimal("12.5"));
  CHECK(Decimal::from_scaled(5, 1) == Decimal("00.50"));
  CHECK_FALSE(Decimal::from_scaled(5, 1) == Decimal("0.05"));
  CHECK(Decimal::from_scaled(-125, 1).to_double() == -12.5);
  CHECK(Decimal::from_scaled(7, 25).to_double() == 7e-25);
  CHECK(Decimal("9007199254740993").to_double() == 9007199254740992.0);  // past 2^53: nearest even
  CHECK_THROWS_WITH(Decimal::from_scaled(1, -2), Contains("0 or more"));
}

TEST_CASE("decimal text reads back exactly, whatever form holds it", "[value][decimal]") {
  for (const char* t : {"0", "-1", "0.10", "-0.001", "100", "12345678901234.5678", "922337203685477580.7",
                        "-9223372036854775808", "9223372036854775808", "0.0000000000000000000000000001", "-0",
                        "-0.00", "007", "00.5", "1.000000000000000000000000"}) {
    INFO(t);
    CHECK(Decimal(t).str() == t);
    CHECK(Decimal(Decimal(t).str()) == Decimal(t));
  }
}

TEST_CASE("uuid parses hyphenated and bare hex in any case and prints lower-case canonical form",
          "[value][uuid]") {
  const Uuid a("123E4567-E89B-12D3-A456-426614174000");
  const Uuid b("123e4567e89b12d3a456426614174000");
  CHECK(a == b);
  CHECK(a.str() == "123e4567-e89b-12d3-a456-426614174000");
  CHECK(a.bytes()[0] == 0x12);
  CHECK(a.bytes()[15] == 0x00);
  CHECK(Uuid().str() == "00000000-0000-0000-0000-000000000000");
  CHECK(Uuid(a.bytes()) == a);
}

TEST_CASE("uuid rejects wrong lengths, misplaced hyphens and non-hex digits", "[value][uuid]") {
  CHECK_THROWS_AS(Uuid(""), DataError);
  CHECK_THROWS_AS(Uuid("123e4567-e89b-12d3-a456-42661417400"), DataError);
  CHECK_THROWS_AS(Uuid("123e4567-e89b-12d3-a456-4266141740000"), DataError);
  CHECK_THROWS_WITH(Uuid("123e4567xe89b-12d3-a456-426614174000"), Contains("'-'"));
  CHECK_THROWS_WITH(Uuid("g23e4567-e89b-12d3-a456-426614174000"), Contains("non-hex"));
  CHECK_THROWS_AS(Uuid("{23e4567-e89b-12d3-a456-426614174000}"), DataError);
}

TEST_CASE("value reports a short type name for messages", "[value]") {
  CHECK(Value().type_name() == "NULL");
  CHECK(Value(nullptr).type_name() == "NULL");
  CHECK(Value(true).type_name() == "bool");
  CHECK(Value(std::int16_t{3}).type_name() == "int64");
  CHECK(Value(2.5).type_name() == "double");
  CHECK(Value("x").type_name() == "text");
  CHECK(Value(corm::Bytes{}).type_name() == "bytes");
  CHECK(Value(corm::Timestamp{}).type_name() == "timestamp");
  CHECK(Value(corm::Date{}).type_name() == "date");
  CHECK(Value(Decimal("1")).type_name() == "decimal");
  CHECK(Value(Uuid()).type_name() == "uuid");
  CHECK(Value(corm::Json{"{}"}).type_name() == "json");
  CHECK(Value(corm::Array{}).type_name() == "array");
}

TEST_CASE("value equality compares alternative and content, arrays element-wise", "[value]") {
  CHECK(Value(5) == Value(std::int64_t{5}));
  CHECK_FALSE(Value(5) == Value(5.0));
  CHECK_FALSE(Value(true) == Value(1));
  CHECK(Value() == Value(corm::Null{}));
  CHECK(Value("a") == Value(std::string("a")));
  CHECK(Value(Decimal("1.0")) == Value(Decimal("1")));
  CHECK(Value(corm::Array{{1, "x"}}) == Value(corm::Array{{1, "x"}}));
  CHECK_FALSE(Value(corm::Array{{1, "x"}}) == Value(corm::Array{{1, "y"}}));
  CHECK_FALSE(Value(corm::Array{{1}}) == Value(corm::Array{{1, 2}}));
}
