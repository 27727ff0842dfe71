#pragma once
// SessionTransaction: what Session::begin() and begin_nested() return. commit() flushes and
// commits (root) or releases the savepoint (nested); destroyed while active, it rolls back —
// a savepoint only its own work, so the outer transaction can go on (work A and C commit although B failed).

#include <cstdint>
#include <optional>

#include "corm/engine/transaction.hpp"

namespace corm {

class Session;

/// A session transaction or savepoint. Move-only.
class SessionTransaction {
 public:
  /// Takes over `o`'s transaction; `o` is left inactive.
  SessionTransaction(SessionTransaction&& o) noexcept;
  SessionTransaction& operator=(SessionTransaction&&) = delete;
  /// Rolls back when still active (errors are swallowed).
  ~SessionTransaction();
  /// Flushes, then commits / releases the savepoint. UsageError when no longer active.
  void commit();
  /// Rolls back (the savepoint's work only, for a nested one).
  void rollback();
  /// True until commit() or rollback() ends it (a commit whose flush failed leaves it active, to be
  /// rolled back).
  bool is_active() const noexcept { return active_; }
  /// True for a savepoint (from begin_nested()).
  bool is_nested() const noexcept { return nested_; }

 private:
  friend class Session;
  SessionTransaction(Session* s, Transaction tx, bool nested, std::uint64_t mark)
      : session_(s), tx_(std::move(tx)), nested_(nested), mark_(mark) {}
  Session* session_;
  std::optional<Transaction> tx_;
  bool nested_;
  std::uint64_t mark_;
  bool active_ = true;
};

}  // namespace corm
