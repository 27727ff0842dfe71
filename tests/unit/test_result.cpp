#include <catch2/catch.hpp>

#include <memory>

#include "corm/core/result.hpp"

using corm::BufferedResultSet;
using corm::Result;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {
// A result of (id, name) rows: ids 1..n, names "n1".."nn", with a NULL name on row 0 when asked.
Result make(std::size_t n, bool null_first_name = false) {
  auto rs = std::make_shared<BufferedResultSet>(std::vector<std::string>{"id", "name"});
  for (std::size_t i = 0; i < n; ++i) {
    rs->push_int(static_cast<std::int64_t>(i + 1));
    if (i == 0 && null_first_name) rs->push_null();
    else rs->push_text("n" + std::to_string(i + 1));
  }
  return Result(rs);
}
}  // namespace

TEST_CASE("buffered result set stores every storage class and hands back views into its arena",
          "[result]") {
  BufferedResultSet rs({"a", "b", "c", "d", "e"});
  rs.push_null();
  rs.push_int(-5);
  rs.push_real(1.25);
  rs.push_text("héllo");
  rs.push_blob(std::string_view("\0\1", 2));
  rs.push_null();
  rs.push_int(7);
  rs.push_real(0);
  rs.push_text("");
  rs.push_blob("");
  rs.set_affected_rows(3);
  CHECK(rs.size() == 2);
  CHECK(rs.column_count() == 5);
  CHECK(rs.column_name(3) == "d");
  CHECK(rs.cell(0, 0).is_null());
  CHECK(rs.cell(0, 1).i == -5);
  CHECK(rs.cell(0, 2).d == 1.25);
  CHECK(rs.cell(0, 3).s == "héllo");
  CHECK(rs.cell(0, 4).kind == corm::Cell::Kind::blob);
  CHECK(rs.cell(0, 4).s == std::string_view("\0\1", 2));
  CHECK(rs.cell(1, 1).i == 7);
  CHECK(rs.cell(1, 3).s.empty());
  CHECK(rs.cell(1, 3).kind == corm::Cell::Kind::text);
  CHECK(rs.affected_rows() == 3);
  CHECK_THROWS_AS(rs.cell(2, 0), std::out_of_range);
  CHECK_THROWS_AS(rs.column_name(5), std::out_of_range);
}

TEST_CASE("result exposes columns, rows, iteration and rowcount", "[result]") {
  const auto r = make(3);
  CHECK(r.columns() == std::vector<std::string>{"id", "name"});
  CHECK(r.size() == 3);
  CHECK(r.rowcount() == -1);
  std::int64_t sum = 0;
  for (auto row : r) sum += row.get<std::int64_t>(0);
  CHECK(sum == 6);
  CHECK(r.at(2).get<std::string>("name") == "n3");
  CHECK(r.all().size() == 3);
  auto [id, name] = r.at(1).as<int, std::string>();
  CHECK(id == 2);
  CHECK(name == "n2");
  CHECK_THROWS_AS(r.at(3), std::out_of_range);
  CHECK(r.scalars<int>() == std::vector<int>{1, 2, 3});
  const Result empty;
  CHECK(empty.empty());
  CHECK(empty.columns().empty());
  CHECK(empty.rowcount() == -1);
  CHECK(empty.begin() == empty.end());
}

TEST_CASE("one() throws NoResultFound for no rows and MultipleResultsFound for several", "[result]") {
  CHECK(make(1).one().get<int>(0) == 1);
  CHECK_THROWS_AS(make(0).one(), corm::NoResultFound);
  CHECK_THROWS_WITH(make(0).one(), Contains("No row was found") && Contains("one_or_none()"));
  CHECK_THROWS_AS(make(2).one(), corm::MultipleResultsFound);
  CHECK_THROWS_WITH(make(2).one(), Contains("Multiple rows") && Contains("use first() to take the first of several rows"));
}

TEST_CASE("one_or_none() allows zero rows but not several", "[result]") {
  CHECK_FALSE(make(0).one_or_none().has_value());
  CHECK(make(1).one_or_none()->get<int>(0) == 1);
  CHECK_THROWS_AS(make(3).one_or_none(), corm::MultipleResultsFound);
  CHECK_THROWS_WITH(make(3).one_or_none(), Contains("3 rows") && Contains("first()"));
}

TEST_CASE("first() takes the first row and ignores the rest", "[result]") {
  CHECK_FALSE(make(0).first().has_value());
  CHECK(make(5).first()->get<int>(0) == 1);
}

TEST_CASE("scalar, scalar_one and scalars read the first column", "[result]") {
  CHECK(make(0).scalar<int>() == std::nullopt);
  CHECK(make(2).scalar<int>() == 1);
  CHECK(make(1).scalar_one<int>() == 1);
  CHECK_THROWS_AS(make(0).scalar_one<int>(), corm::NoResultFound);
  CHECK_THROWS_AS(make(2).scalar_one<int>(), corm::MultipleResultsFound);
  CHECK(make(0).scalars<int>().empty());
}

TEST_CASE("a decode error names the column, its index and the C++ type", "[result]") {
  const auto r = make(1, true);
  CHECK_THROWS_AS(r.at(0).get<std::string>(1), corm::DataError);
  CHECK_THROWS_WITH(r.at(0).get<std::string>(1),
                    Contains("column \"name\" (index 1): ") && Contains("std::optional<std::string>"));
  CHECK_THROWS_WITH(r.at(0).get<std::int16_t>("name"), Contains("column \"name\" (index 1): "));
  CHECK(r.at(0).get<std::optional<std::string>>("name") == std::nullopt);
  CHECK(r.at(0).is_null(1));
  const auto big = make(2);
  CHECK_THROWS_WITH(big.at(0).get<corm::Uuid>(1),
                    StartsWith("column \"name\" (index 1): ") && Contains("corm::Uuid") && Contains("'n1'"));
}

TEST_CASE("asking for a missing column lists the available ones", "[result]") {
  const auto r = make(1);
  CHECK_THROWS_AS(r.at(0).get<int>("nme"), corm::ProgrammingError);
  CHECK_THROWS_WITH(r.at(0).get<int>("nme"), Contains("\"nme\"") && Contains("id, name"));
  CHECK_THROWS_AS(r.at(0).get<int>(2), corm::ProgrammingError);
  CHECK_THROWS_WITH(r.at(0).get<int>(2), Contains("index 2") && Contains("id, name"));
}
