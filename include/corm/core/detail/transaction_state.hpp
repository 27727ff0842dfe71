#pragma once
// The transaction bookkeeping of one connection, shared by the sync and async fronts: which
// control statement (BEGIN, SAVEPOINT, COMMIT, …) to send next, and what state follows once it
// succeeded. It performs no I/O; each front sends the statements and reports back, so both
// fronts make the same decisions and raise the same errors.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/core/isolation_level.hpp"

namespace corm {
class Error;
}

namespace corm::detail {

class TransactionState {
 public:
  TransactionState(Dialect dialect, std::optional<IsolationLevel> engine_level) noexcept
      : dialect_(dialect), engine_level_(engine_level) {}

  /// The level the next transaction uses.
  IsolationLevel isolation_level() const noexcept;
  /// Sets the level for later transactions; throws UsageError inside one.
  void set_isolation_level(IsolationLevel level);

  /// Makes the next transaction READ ONLY (`START TRANSACTION READ ONLY` on MySQL, `BEGIN READ
  /// ONLY` on PostgreSQL); it applies to that one transaction, as SET TRANSACTION does. Throws
  /// UsageError inside one, and on SQLite, which has no read-only transactions.
  void mark_next_read_only();
  /// True when the transaction begun next (or the open one) was marked read-only.
  bool read_only() const noexcept { return read_only_; }

  bool in_transaction() const noexcept { return in_tx_; }
  /// Mirrors in_transaction() into `flag` from now on (the pool's diagnostics read it from other
  /// threads); null stops. The flag must outlive this state or be replaced first.
  void mirror_to(std::atomic<bool>* flag) noexcept {
    mirror_ = flag;
    if (flag) flag->store(in_tx_, std::memory_order_relaxed);
  }
  bool in_nested_transaction() const noexcept { return in_tx_ && !savepoints_.empty(); }
  /// True when the physical connection broke inside the open transaction.
  bool lost() const noexcept { return lost_in_tx_; }

  /// Throws ConnectionLost while a lost transaction has not been rolled back.
  void check_usable() const;

  /// Statements that begin a transaction before a user statement: empty when one is open or
  /// under AUTOCOMMIT. Call began() once they succeeded.
  std::vector<std::string> autobegin_statements() const;
  /// True when autobegin_statements() is not empty (asked without building it).
  bool needs_autobegin() const noexcept { return !in_tx_ && isolation_level() != IsolationLevel::autocommit; }
  /// True when the autobegin is the single statement `BEGIN` (the common case, asked without
  /// building the vector).
  bool autobegins_plainly() const noexcept {
    const IsolationLevel level = isolation_level();
    return needs_autobegin() && !(dialect_ == Dialect::sqlite && level == IsolationLevel::read_uncommitted) &&
           !((dialect_ == Dialect::postgresql || dialect_ == Dialect::mysql) && level_) && !read_only_;
  }
  /// True when a plain read may run before this transaction's BEGIN reaches the server: the
  /// BEGIN names no level of its own (the connection's default applies, which the driver
  /// checks) or asks for READ COMMITTED, where each statement takes its own snapshot anyway.
  bool reads_may_precede_begin() const noexcept {
    return !read_only_ &&
           (!level_ || *level_ == IsolationLevel::read_committed || *level_ == IsolationLevel::read_uncommitted);
  }
  /// Statements for an explicit begin(); throws UsageError when a transaction is open.
  std::vector<std::string> begin_statements() const;
  /// Records that the BEGIN statements succeeded; returns the new transaction's id.
  std::uint64_t began() noexcept;

  /// The SAVEPOINT statement for a new savepoint and its id (begin first when no transaction
  /// is open). Call savepoint_opened(id) once it succeeded.
  std::pair<std::string, std::uint64_t> savepoint_statement() noexcept;
  void savepoint_opened(std::uint64_t id) { savepoints_.push_back(id); }
  /// RELEASE / ROLLBACK TO for savepoint `id`; throws UsageError when it is not active, and
  /// DatabaseError when releasing one in which a statement failed. Call savepoint_ended().
  std::string end_savepoint_statement(std::uint64_t id, bool commit) const;
  void savepoint_ended(std::uint64_t id, bool commit) noexcept;

  /// True when commit() must refuse: PostgreSQL aborted the transaction after a failed
  /// statement. The front rolls back, then throws commit_refused_error().
  bool commit_refused() const noexcept { return tx_failed_; }
  [[noreturn]] static void throw_commit_refused();
  /// Throws ConnectionLost when the transaction was lost. Call before sending COMMIT.
  void check_commit() const;
  /// Marks the transaction finished (before COMMIT/ROLLBACK is sent: whatever the outcome, it
  /// is no longer open). Returns true when ROLLBACK must still be sent (false after a loss).
  bool end() noexcept;
  /// Statements that restore per-transaction session settings after COMMIT/ROLLBACK.
  std::vector<std::string> after_end_statements() noexcept;
  /// True when after_end_statements() has something to run.
  bool has_after_end_statements() const noexcept { return read_uncommitted_pragma_; }

  /// Records a failed statement. `connection_broken` when the connection cannot be used again.
  void on_error(bool connection_broken) noexcept;

  /// Whether the root transaction `id` / savepoint `id` is still open.
  bool root_active(std::uint64_t id) const noexcept { return in_tx_ && root_id_ == id; }
  bool savepoint_active(std::uint64_t id) const noexcept;

 private:
  Dialect dialect_;
  std::optional<IsolationLevel> engine_level_;
  std::optional<IsolationLevel> level_;
  bool in_tx_ = false;
  std::atomic<bool>* mirror_ = nullptr;
  bool lost_in_tx_ = false;
  bool tx_failed_ = false;
  bool read_uncommitted_pragma_ = false;
  bool read_only_ = false;
  std::vector<std::uint64_t> savepoints_;
  std::uint64_t serial_ = 0;
  std::uint64_t root_id_ = 0;
};

}  // namespace corm::detail
