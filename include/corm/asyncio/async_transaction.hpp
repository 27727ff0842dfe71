#pragma once
// AsyncTransaction: what AsyncConnection::begin() and begin_nested() return. Commit or roll it
// back with co_await. A destructor cannot co_await, so one that goes out of scope still active
// (an exception, an early co_return) is rolled back by the connection before its next statement
// or when it is closed — the work is never committed.

#include <cstdint>

#include <boost/asio/awaitable.hpp>

namespace corm {

class AsyncConnection;

/// A root transaction or a savepoint on an AsyncConnection. Move-only.
class AsyncTransaction {
 public:
  /// Takes over `other`'s transaction; `other` is left inactive.
  AsyncTransaction(AsyncTransaction&& other) noexcept;
  AsyncTransaction& operator=(AsyncTransaction&&) = delete;
  AsyncTransaction(const AsyncTransaction&) = delete;
  /// Schedules a rollback when still active (see the header comment).
  ~AsyncTransaction();

  /// Commits (root) or releases the savepoint (nested). Throws UsageError when not active.
  boost::asio::awaitable<void> commit();
  /// Rolls back (root) or to the savepoint (nested); harmless when no longer active.
  boost::asio::awaitable<void> rollback();
  /// True until commit() or rollback().
  bool is_active() const noexcept;
  /// True for a savepoint.
  bool is_nested() const noexcept { return nested_; }

 private:
  friend class AsyncConnection;
  AsyncTransaction(AsyncConnection* conn, bool nested, std::uint64_t id) noexcept
      : conn_(conn), nested_(nested), id_(id) {}
  AsyncConnection* conn_;
  bool nested_;
  std::uint64_t id_;
};

}  // namespace corm
