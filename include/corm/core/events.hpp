#pragma once
// Engine events, SQLAlchemy's `event.listen(engine, ...)` in C++: connect, checkout, checkin,
// before_execute and after_execute. Listeners run synchronously on the thread that caused the
// event, so they must be quick and thread-safe; they are how tests and services count queries.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "corm/core/value.hpp"

namespace corm {

class Error;

/// A physical connection event (connect, checkout, checkin).
struct ConnectionEvent {
  std::uint64_t connection_id = 0;  ///< Pool-unique id of the physical connection.
  int backend_pid = 0;              ///< PostgreSQL backend pid (0 for SQLite).
};

/// A statement about to run (before_execute) or that ran (after_execute).
struct StatementEvent {
  std::string_view sql;               ///< Dialect SQL text.
  std::span<const Value> parameters;  ///< Bound values (listeners decide whether to show them).
  std::chrono::nanoseconds duration{0};  ///< after_execute only.
  std::int64_t rows = -1;             ///< Rows returned or affected; after_execute only.
  bool from_cache = false;            ///< SQL came from the compiled-statement cache.
  /// Pool-unique id of the physical connection that ran the statement.
  std::uint64_t connection_id = 0;
  const Error* error = nullptr;       ///< after_execute: set when the statement failed.
};

/// The listener registry of one engine. Registration is thread-safe and may happen while the
/// engine is in use; a listener added during an event sees the next one.
class Events {
 public:
  /// Identifies a registered listener, for remove().
  using ListenerId = std::uint64_t;
  /// A listener of connect, checkout and checkin events.
  using ConnectionListener = std::function<void(const ConnectionEvent&)>;
  /// A listener of before_execute and after_execute events.
  using StatementListener = std::function<void(const StatementEvent&)>;

  /// A new physical connection was opened.
  ListenerId on_connect(ConnectionListener f);
  /// A connection left the pool for a user.
  ListenerId on_checkout(ConnectionListener f);
  /// A connection came back to the pool.
  ListenerId on_checkin(ConnectionListener f);
  /// A statement is about to be sent.
  ListenerId before_execute(StatementListener f);
  /// A statement finished (successfully or not; see StatementEvent::error).
  ListenerId after_execute(StatementListener f);
  /// Removes a listener; unknown ids are ignored.
  void remove(ListenerId id);

  /// Calls the on_connect listeners with `e` (the pool does, for each new connection).
  void emit_connect(const ConnectionEvent& e) const;
  /// Calls the on_checkout listeners with `e` (the pool does, at each checkout).
  void emit_checkout(const ConnectionEvent& e) const;
  /// Calls the on_checkin listeners with `e` (the pool does, at each checkin).
  void emit_checkin(const ConnectionEvent& e) const;
  /// Calls the before_execute listeners with `e` (corm calls it before each statement runs).
  void emit_before_execute(const StatementEvent& e) const;
  /// Calls the after_execute listeners with `e` (corm calls it after each statement, failed or not).
  void emit_after_execute(const StatementEvent& e) const;
  /// Cheap check so the hot path skips building events nobody listens to.
  bool has_statement_listeners() const noexcept;

 private:
  enum class Kind { connect, checkout, checkin, before, after };
  struct Entry {
    ListenerId id;
    Kind kind;
    ConnectionListener conn;
    StatementListener stmt;
  };
  using List = std::vector<Entry>;
  std::shared_ptr<const List> snapshot() const;
  ListenerId add(Entry e);

  mutable std::mutex mu_;
  std::shared_ptr<const List> list_ = std::make_shared<const List>();
  ListenerId next_ = 0;
  std::atomic<bool> has_stmt_{false};
  std::atomic<bool> has_conn_{false};  // checked before the lock: every checkout and checkin emits
};

}  // namespace corm
