#include "corm/core/detail/transaction_state.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "corm/core/error.hpp"

namespace corm::detail {

IsolationLevel TransactionState::isolation_level() const noexcept {
  if (level_) return *level_;
  if (engine_level_) return *engine_level_;
  switch (dialect_) {
    case Dialect::postgresql: return IsolationLevel::read_committed;
    case Dialect::mysql: return IsolationLevel::repeatable_read;  // InnoDB's default
    case Dialect::sqlite: break;
  }
  return IsolationLevel::serializable;
}

void TransactionState::set_isolation_level(IsolationLevel level) {
  if (in_tx_)
    throw UsageError("cannot change the isolation level inside a transaction; commit() or rollback() first");
  level_ = level;
}

void TransactionState::mark_next_read_only() {
  if (dialect_ == Dialect::sqlite)
    throw UsageError("SQLite has no read-only transactions; open the database read-only instead "
                     "(sqlite:///path?mode=ro) or use a read-only session");
  if (in_tx_)
    throw UsageError("cannot make a transaction read-only once it has begun; mark it before its first statement");
  read_only_ = true;
}

void TransactionState::check_usable() const {
  if (lost_in_tx_)
    throw ConnectionLost("the connection was lost inside a transaction, which the server has rolled back; "
                         "call rollback() to acknowledge it, then continue on a fresh connection");
}

std::vector<std::string> TransactionState::autobegin_statements() const {
  if (!needs_autobegin()) return {};
  return begin_statements();
}

std::vector<std::string> TransactionState::begin_statements() const {
  if (in_tx_)
    throw UsageError("a transaction is already in progress on this connection; commit() or rollback() it, "
                     "or use begin_nested() for a savepoint");
  const IsolationLevel level = isolation_level();
  std::vector<std::string> out;
  if (dialect_ == Dialect::sqlite && level == IsolationLevel::read_uncommitted) {
    // SQLite honours READ UNCOMMITTED only through this pragma (and only with a shared cache);
    // after_end_statements() switches it off again.
    out.emplace_back("PRAGMA read_uncommitted = 1");
  }
  // The engine-wide PostgreSQL level travels in the startup packet; only a per-connection
  // level needs spelling out. An explicit begin() under AUTOCOMMIT still opens a transaction.
  if (dialect_ == Dialect::postgresql && level_ && level != IsolationLevel::autocommit) {
    out.push_back(fmt::format("BEGIN ISOLATION LEVEL {}{}", to_sql(level), read_only_ ? " READ ONLY" : ""));
  } else if (dialect_ == Dialect::postgresql && read_only_) {
    out.emplace_back("BEGIN READ ONLY");
  } else if (dialect_ == Dialect::mysql && level_ && level != IsolationLevel::autocommit) {
    // MySQL's START TRANSACTION takes no level: SET TRANSACTION (without SESSION) applies to the
    // next transaction only.
    out.push_back(fmt::format("SET TRANSACTION ISOLATION LEVEL {}", to_sql(level)));
    out.emplace_back(read_only_ ? "START TRANSACTION READ ONLY" : "BEGIN");
  } else if (dialect_ == Dialect::mysql && read_only_) {
    out.emplace_back("START TRANSACTION READ ONLY");
  } else {
    out.emplace_back("BEGIN");
  }
  return out;
}

std::uint64_t TransactionState::began() noexcept {
  in_tx_ = true;
  if (mirror_) mirror_->store(true, std::memory_order_relaxed);
  tx_failed_ = false;
  read_uncommitted_pragma_ = dialect_ == Dialect::sqlite && isolation_level() == IsolationLevel::read_uncommitted;
  root_id_ = ++serial_;
  return root_id_;
}

std::pair<std::string, std::uint64_t> TransactionState::savepoint_statement() noexcept {
  const std::uint64_t id = ++serial_;
  return {fmt::format("SAVEPOINT corm_sp_{}", id), id};
}

bool TransactionState::savepoint_active(std::uint64_t id) const noexcept {
  return in_tx_ && std::find(savepoints_.begin(), savepoints_.end(), id) != savepoints_.end();
}

std::string TransactionState::end_savepoint_statement(std::uint64_t id, bool commit) const {
  if (!savepoint_active(id))
    throw UsageError("this savepoint is no longer active (its transaction ended or an outer savepoint closed it)");
  check_usable();
  if (commit && tx_failed_)
    throw DatabaseError("cannot release the savepoint: a statement inside it failed and PostgreSQL aborted "
                        "the transaction; roll the savepoint back instead");
  return fmt::format("{} corm_sp_{}", commit ? "RELEASE SAVEPOINT" : "ROLLBACK TO SAVEPOINT", id);
}

void TransactionState::savepoint_ended(std::uint64_t id, bool commit) noexcept {
  auto it = std::find(savepoints_.begin(), savepoints_.end(), id);
  if (it == savepoints_.end()) return;
  savepoints_.erase(it, savepoints_.end());  // closing a savepoint closes those inside it
  if (!commit) tx_failed_ = false;           // the failure is undone with the savepoint
}

void TransactionState::throw_commit_refused() {
  throw DatabaseError("cannot commit: a statement failed earlier in this transaction, so PostgreSQL aborted it; "
                      "the transaction has been rolled back — fix the failing statement and run it again");
}

void TransactionState::check_commit() const {
  if (lost_in_tx_)
    throw ConnectionLost("cannot commit: the connection was lost inside the transaction, which the server "
                         "rolled back; call rollback() and run the transaction again");
}

bool TransactionState::end() noexcept {
  const bool send_rollback = !lost_in_tx_;
  in_tx_ = false;
  if (mirror_) mirror_->store(false, std::memory_order_relaxed);
  tx_failed_ = false;
  lost_in_tx_ = false;
  read_only_ = false;  // per transaction, like MySQL's SET TRANSACTION READ ONLY
  savepoints_.clear();
  return send_rollback;
}

std::vector<std::string> TransactionState::after_end_statements() noexcept {
  if (!read_uncommitted_pragma_) return {};
  read_uncommitted_pragma_ = false;
  return {"PRAGMA read_uncommitted = 0"};
}

void TransactionState::on_error(bool connection_broken) noexcept {
  if (!in_tx_) return;
  if (connection_broken) {
    lost_in_tx_ = true;
    read_uncommitted_pragma_ = false;  // the session that had it is gone
  } else if (dialect_ == Dialect::postgresql) {
    // PostgreSQL refuses every statement after a failure until the transaction (or the
    // savepoint) is rolled back; remember it so commit() cannot silently turn into a rollback.
    tx_failed_ = true;
  }
}

}  // namespace corm::detail
