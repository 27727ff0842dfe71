#pragma once
// MySQL results → corm's BufferedResultSet. Integers arrive as integers, floating-point as
// reals, DATE / DATETIME / TIMESTAMP as corm's text spelling ('YYYY-MM-DD HH:MM:SS.ffffff', UTC
// session), DECIMAL as its exact text, binary strings and BLOBs as bytes, everything else as
// text — the cell kinds the decoders already read for SQLite.

#include <mysql.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "corm/core/result_set.hpp"

namespace corm::driver::mysql {

/// Thrown when the server or the client library reports an error mid-result; the caller
/// classifies it from the statement handle.
struct StatementFailed : std::runtime_error {
  StatementFailed() : std::runtime_error("mysql statement failed") {}
};

/// The rows of an executed prepared statement (binary protocol): binds one buffer per column
/// and turns each fetched row into cells. For a stored result (mysql_stmt_store_result with
/// STMT_ATTR_UPDATE_MAX_LENGTH) the buffers fit the longest value; for a streamed one they
/// start small, and a longer value is fetched again whole. Bound to `stmt` until destroyed.
class StatementRows {
 public:
  /// `meta` is mysql_stmt_result_metadata's (the caller frees it). Throws StatementFailed.
  StatementRows(MYSQL_STMT* stmt, MYSQL_RES* meta, bool stored);
  ~StatementRows();
  StatementRows(const StatementRows&) = delete;
  StatementRows& operator=(const StatementRows&) = delete;

  /// An empty result with this statement's column names.
  std::shared_ptr<BufferedResultSet> make_set() const;
  /// Appends the row mysql_stmt_fetch has just fetched (it returned 0 or MYSQL_DATA_TRUNCATED).
  void append(BufferedResultSet& rs);

 private:
  struct Column;
  MYSQL_STMT* stmt_;
  std::vector<std::string> names_;
  std::vector<Column> cols_;
  std::vector<MYSQL_BIND> binds_;
};

/// Reads the whole stored result of an executed prepared statement (fetching needs no I/O once
/// mysql_stmt_store_result has run).
std::shared_ptr<const ResultSet> read_stored_statement_result(MYSQL_STMT* stmt, MYSQL_RES* meta);

/// The result of an executed statement without a result set: its affected rows.
std::shared_ptr<const ResultSet> affected_rows_result(MYSQL_STMT* stmt);

/// Reads a stored text-protocol result.
std::shared_ptr<const ResultSet> read_text_result(MYSQL_RES* res);

}  // namespace corm::driver::mysql
