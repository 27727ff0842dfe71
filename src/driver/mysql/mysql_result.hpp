#pragma once
// MySQL results → corm's BufferedResultSet. Integers arrive as integers, floating-point as
// reals, DATE / DATETIME / TIMESTAMP as corm's text spelling ('YYYY-MM-DD HH:MM:SS.ffffff', UTC
// session), DECIMAL as its exact text, binary strings and BLOBs as bytes, everything else as
// text — the cell kinds the decoders already read for SQLite.

#include <mysql.h>

#include <memory>
#include <stdexcept>

#include "corm/core/result_set.hpp"

namespace corm::driver::mysql {

/// Thrown by read_statement_result when the server reports an error mid-result; the caller
/// classifies it from the statement handle.
struct StatementFailed : std::runtime_error {
  StatementFailed() : std::runtime_error("mysql statement failed") {}
};

/// Reads the whole result of an executed prepared statement (binary protocol). Statements
/// without a result set report their affected rows.
std::shared_ptr<const ResultSet> read_statement_result(MYSQL_STMT* stmt);

/// Reads a stored text-protocol result.
std::shared_ptr<const ResultSet> read_text_result(MYSQL_RES* res);

}  // namespace corm::driver::mysql
