#pragma once
// PostgreSQL results and errors: a ResultSet over a PGresult (cells point into libpq's buffer,
// no copy per value) and the SQLSTATE → exception classification.

#include <libpq-fe.h>

#include <boost/container/small_vector.hpp>

#include <exception>
#include <string_view>
#include <vector>

#include "corm/core/result_set.hpp"
#include "core/pg_binary.hpp"

namespace corm::driver::postgres {

/// Owns a PGresult; cells are views into it, text or binary per column (core/pg_binary.hpp).
class PgResultSet final : public ResultSet {
 public:
  explicit PgResultSet(PGresult* res);
  ~PgResultSet() override;
  PgResultSet(const PgResultSet&) = delete;
  PgResultSet& operator=(const PgResultSet&) = delete;

  std::size_t size() const noexcept override { return rows_; }
  std::size_t column_count() const noexcept override { return columns_.size(); }
  std::string_view column_name(std::size_t col) const override;
  Cell cell(std::size_t row, std::size_t col) const override;
  void cells(std::size_t row, std::size_t first, std::size_t n, Cell* out) const override;
  std::int64_t affected_rows() const noexcept override { return affected_; }

 private:
  Cell make_cell(int row, std::size_t col) const;

  PGresult* res_;
  std::size_t rows_;
  struct Column {
    std::uint32_t type;           // PostgreSQL type OID
    detail::PgBinaryKind binary;  // none for a text-format column
  };
  // In place up to 12 columns: every statement's result makes one, and a heap block each was
  // an allocation and a free per statement (bench W1: one of about 25 per lookup).
  boost::container::small_vector<Column, 12> columns_;
  std::int64_t affected_;
};

/// Builds the exception for a failed PGresult (SQLSTATE classes 08, 22, 23, 40, 42, 53, 57, …).
/// With `hide_values`, what() leaves out server messages that may quote a bound value (data
/// exceptions, messages raised by functions); Error::server_message() always has the full text.
std::exception_ptr classify(const PGresult* res, std::string_view statement, bool hide_values);

/// Builds ConnectionLost (or CommitOutcomeUnknown for a COMMIT) for a connection that broke.
std::exception_ptr connection_lost(PGconn* conn, std::string_view statement, std::string_view during);

}  // namespace corm::driver::postgres
