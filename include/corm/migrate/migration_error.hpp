#pragma once
// The error a failing revision raises: which revision and which statement. On PostgreSQL and
// SQLite nothing of the revision was kept (its transaction was rolled back, so schema and version
// table are as before); on MySQL/MariaDB DDL commits implicitly, so its earlier statements may
// have stayed applied and the message says so.

#include <optional>
#include <string>

#include "corm/core/error.hpp"

namespace corm::migrate {

/// A revision failed while running; it was rolled back where DDL is transactional (PostgreSQL,
/// SQLite — on MySQL/MariaDB earlier statements of the revision may remain). what() names the revision, the
/// statement (its position and text) and the database's own error; detail() is the database
/// error's diagnostics (SQLSTATE / SQLite code, server message).
class MigrationError : public Error {
 public:
  /// An error with message `what` for revision `revision`, failing statement `statement_index`
  /// (1-based; 0 when not a statement of the file) and the database error's `detail`.
  MigrationError(const std::string& what, std::string revision, std::size_t statement_index, ErrorDetail detail = {})
      : Error(what, std::move(detail)), revision_(std::move(revision)), statement_index_(statement_index) {}
  /// The id of the revision that failed.
  const std::string& revision() const noexcept { return revision_; }
  /// 1-based position of the failing statement in its section (0: not a statement of the file,
  /// e.g. the foreign-key check after it).
  std::size_t statement_index() const noexcept { return statement_index_; }

 private:
  std::string revision_;
  std::size_t statement_index_;
};

}  // namespace corm::migrate
