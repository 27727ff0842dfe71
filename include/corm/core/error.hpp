#pragma once
// corm's exception hierarchy. Every failure a caller can act on has its own type, classified by
// what the caller must do about it (retry the transaction, fix the input, replace the
// connection), and carries the server's diagnostics apart from corm's own words: the server's
// message may contain user data, so it is kept in `server_message()` and never mixed into logs.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace corm {

/// Diagnostics a database error carries: SQLSTATE (PostgreSQL) or extended result code (SQLite),
/// the statement that failed (SQL text only, never parameter values), and the constraint, table
/// and column the server named, where it named one.
struct ErrorDetail {
  std::string sqlstate;          ///< Five-character SQLSTATE, empty when the backend has none.
  int result_code = 0;           ///< SQLite extended result code; 0 on PostgreSQL.
  std::string statement;         ///< The SQL text that failed, if any.
  std::string server_message;    ///< The server's primary message, verbatim.
  std::string constraint;        ///< Constraint name when the server reported one.
  std::string table;             ///< Table name when the server reported one.
  std::string column;            ///< Column name when the server reported one.
};

/// Root of every exception corm throws. Catch this to handle "anything from the database layer".
class Error : public std::runtime_error {
 public:
  /// An error saying `what`, with what the database reported (SQLSTATE, codes) in `detail`.
  explicit Error(const std::string& what, ErrorDetail detail = {})
      : std::runtime_error(what), detail_(std::move(detail)) {}

  /// SQLSTATE of the failure ("23505"), or empty.
  const std::string& sqlstate() const noexcept { return detail_.sqlstate; }
  /// SQLite extended result code, or 0.
  int result_code() const noexcept { return detail_.result_code; }
  /// SQL text of the statement that failed, or empty.
  const std::string& statement() const noexcept { return detail_.statement; }
  /// The server's own message (may contain user data; keep it out of shared logs).
  const std::string& server_message() const noexcept { return detail_.server_message; }
  /// Constraint the server named, or empty.
  const std::string& constraint() const noexcept { return detail_.constraint; }
  /// Table the server named, or empty.
  const std::string& table() const noexcept { return detail_.table; }
  /// Column the server named, or empty.
  const std::string& column() const noexcept { return detail_.column; }
  /// All diagnostics at once.
  const ErrorDetail& detail() const noexcept { return detail_; }

  /// True when the connection that raised this can no longer be used and must be discarded.
  virtual bool poisons_connection() const noexcept { return false; }
  /// True when re-running the whole transaction from the start may succeed.
  virtual bool is_retryable() const noexcept { return false; }

 private:
  ErrorDetail detail_;
};

/// A URL, option or mapping is invalid. Raised before any network I/O.
class ConfigError : public Error { using Error::Error; };

/// The library was used in a way it does not allow (a connection used after it was returned,
/// a transaction committed twice, two statements in one `text()`).
class UsageError : public Error { using Error::Error; };

/// No connection became free within `pool_timeout`. The message gives size, overflow and the
/// number checked out; raise `pool_size`/`max_overflow` or return connections sooner.
class PoolTimeout : public Error { using Error::Error; };

/// Opening a connection failed (server down, refused, bad credentials). Distinct from
/// PoolTimeout: the pool had room, the server did not answer.
class ConnectError : public Error {
 public:
  using Error::Error;
  bool poisons_connection() const noexcept override { return true; }
};

/// The connection broke while in use (server restart, terminated backend, network cut). The
/// connection is discarded; the statement in flight did not complete (or its outcome is unknown
/// when it was a COMMIT, see CommitOutcomeUnknown).
class ConnectionLost : public Error {
 public:
  using Error::Error;
  bool poisons_connection() const noexcept override { return true; }
};

/// The connection was lost while COMMIT was in flight: the transaction may or may not have been
/// committed. Never retried automatically; check the data before trying again.
class CommitOutcomeUnknown : public ConnectionLost { using ConnectionLost::ConnectionLost; };

/// A write was refused because the server turned read-only under a connection opened for
/// writing (`target_session_attrs=read-write`): a demoted or fenced old primary. The connection
/// is discarded like a lost one and the transaction did not commit, so RetryPolicy::on_failover
/// re-runs it on a fresh connection, which reaches the current primary (docs/failover.md).
class ReadOnlyServer : public ConnectionLost { using ConnectionLost::ConnectionLost; };

/// Any error the database reported for a statement.
class DatabaseError : public Error { using Error::Error; };

/// Which integrity rule a statement broke.
enum class IntegrityKind { unique, foreign_key, not_null, check, other };

/// A constraint was violated (SQLSTATE class 23, SQLite SQLITE_CONSTRAINT_*). `kind()` says
/// which; `constraint()` names it where the server did.
class IntegrityError : public DatabaseError {
 public:
  /// An integrity error saying `what`, of kind `kind`, with the server's diagnostics in `detail`.
  IntegrityError(const std::string& what, IntegrityKind kind, ErrorDetail detail = {})
      : DatabaseError(what, std::move(detail)), kind_(kind) {}
  /// Which rule was broken.
  IntegrityKind kind() const noexcept { return kind_; }
  /// True for a unique or primary-key violation.
  bool is_unique_violation() const noexcept { return kind_ == IntegrityKind::unique; }
  /// True for a foreign-key violation.
  bool is_foreign_key_violation() const noexcept { return kind_ == IntegrityKind::foreign_key; }

 private:
  IntegrityKind kind_;
};

/// A value could not be stored or read: out of range, malformed, NULL into a non-optional
/// field, wrong type (SQLSTATE class 22, or a conversion in corm).
class DataError : public DatabaseError { using DatabaseError::DatabaseError; };

/// The SQL itself is wrong: syntax, unknown table or column (SQLSTATE class 42).
class ProgrammingError : public DatabaseError { using DatabaseError::DatabaseError; };

/// The database could not do the work for an operational reason (disk full, database locked,
/// too many connections).
class OperationalError : public DatabaseError { using DatabaseError::DatabaseError; };

/// The transaction was rolled back by the server to resolve a conflict; re-run it from the start.
class TransactionRollbackError : public OperationalError {
 public:
  using OperationalError::OperationalError;
  bool is_retryable() const noexcept override { return true; }
};

/// The server broke a deadlock by aborting this transaction (40P01). Retry the whole unit of work.
class DeadlockDetected : public TransactionRollbackError {
  using TransactionRollbackError::TransactionRollbackError;
};

/// A SERIALIZABLE or REPEATABLE READ transaction conflicted with another (40001). Retry it.
class SerializationFailure : public TransactionRollbackError {
  using TransactionRollbackError::TransactionRollbackError;
};

/// The statement was cancelled: by a statement timeout, by cancellation, or by an operator
/// (57014). The transaction it ran in is aborted.
class QueryCanceled : public OperationalError { using OperationalError::OperationalError; };

/// `one()` / `scalar_one()` found no row.
class NoResultFound : public Error { using Error::Error; };

/// `one()` / `one_or_none()` found more than one row.
class MultipleResultsFound : public Error { using Error::Error; };

}  // namespace corm
