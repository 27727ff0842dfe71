#pragma once
// Transaction: the RAII handle begin() and begin_nested() return. Commit it explicitly; if it
// goes out of scope still active (an exception, an early return) it rolls back.

#include <cstddef>
#include <cstdint>
#include <string>

namespace corm {

class Connection;

/// A root transaction (BEGIN ... COMMIT) or a savepoint (SAVEPOINT ... RELEASE). Move-only.
class Transaction {
 public:
  /// Takes over `other`'s transaction; `other` is left inactive.
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  /// Rolls back when still active; never throws (a failed rollback invalidates the connection).
  ~Transaction();

  /// Commits (root) or releases the savepoint (nested). Throws UsageError when no longer active.
  void commit();
  /// Rolls back (root) or rolls back to the savepoint (nested), keeping the outer transaction.
  void rollback();
  /// True until commit() or rollback().
  bool is_active() const noexcept;
  /// True for a savepoint.
  bool is_nested() const noexcept { return depth_ > 0; }

 private:
  friend class Connection;
  Transaction(Connection* conn, std::size_t depth, std::uint64_t serial) noexcept
      : conn_(conn), depth_(depth), serial_(serial) {}
  Connection* conn_;
  std::size_t depth_;      // 0 = root, n = n-th savepoint
  std::uint64_t serial_;   // the root transaction's or the savepoint's id
};

}  // namespace corm
