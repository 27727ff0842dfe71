#include "corm/core/result.hpp"

#include <exception>
#include <stdexcept>

namespace corm {

namespace detail {

namespace {
std::string column_list(const ResultSet& rs) {
  std::string out;
  for (std::size_t i = 0; i < rs.column_count(); ++i) {
    if (i) out += ", ";
    out += rs.column_name(i);
  }
  return out.empty() ? "(none)" : out;
}
}  // namespace

void rethrow_decode_error(const ResultSet& rs, std::size_t col, std::string_view cpp_type) {
  std::string prefix = "column \"" + std::string(rs.column_name(col)) + "\" (index " + std::to_string(col) + "): ";
  try {
    std::rethrow_exception(std::current_exception());
  } catch (const DataError& e) {
    std::string msg = prefix + e.what();
    // Most decoder messages already name the target type; add it where they do not.
    if (msg.find(cpp_type) == std::string::npos) {
      msg += " (reading into ";
      msg += cpp_type;
      msg += ')';
    }
    throw DataError(msg, e.detail());
  }
}

std::size_t column_index(const ResultSet& rs, std::string_view name) {
  for (std::size_t i = 0; i < rs.column_count(); ++i)
    if (rs.column_name(i) == name) return i;
  throw ProgrammingError("no column named \"" + std::string(name) + "\" in the result; its columns are: " +
                         column_list(rs));
}

void throw_column_out_of_range(const ResultSet& rs, std::size_t col) {
  throw ProgrammingError("column index " + std::to_string(col) + " is out of range: the result has " +
                         std::to_string(rs.column_count()) + " column(s): " + column_list(rs));
}

}  // namespace detail

std::vector<std::string> Result::columns() const {
  std::vector<std::string> out;
  if (!rs_) return out;
  out.reserve(rs_->column_count());
  for (std::size_t i = 0; i < rs_->column_count(); ++i) out.emplace_back(rs_->column_name(i));
  return out;
}

Row Result::at(std::size_t i) const {
  if (i >= size())
    throw std::out_of_range("row " + std::to_string(i) + " is past the end of a result of " +
                            std::to_string(size()) + " rows");
  return Row(rs_, i);
}

std::vector<Row> Result::all() const {
  std::vector<Row> out;
  out.reserve(size());
  for (std::size_t i = 0; i < size(); ++i) out.emplace_back(rs_, i);
  return out;
}

std::optional<Row> Result::first() const {
  if (empty()) return std::nullopt;
  return Row(rs_, 0);
}

Row Result::one() const {
  if (empty())
    throw NoResultFound(
        "No row was found when one was required; use one_or_none() or first() when no row is a "
        "valid outcome");
  if (size() > 1)
    throw MultipleResultsFound("Multiple rows were found when exactly one was required (" +
                               std::to_string(size()) +
                               " rows); use first() to take the first of several rows, or narrow the "
                               "query");
  return Row(rs_, 0);
}

std::optional<Row> Result::one_or_none() const {
  if (size() > 1)
    throw MultipleResultsFound("Multiple rows were found when one or none was required (" +
                               std::to_string(size()) +
                               " rows); use first() to take the first of several rows, or narrow the "
                               "query");
  return first();
}

}  // namespace corm
