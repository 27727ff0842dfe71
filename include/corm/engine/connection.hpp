#pragma once
// Connection: the synchronous front's handle on one pooled connection, with SQLAlchemy 2.0's
// "commit as you go" semantics: the first statement begins a transaction (unless the isolation
// level is AUTOCOMMIT), commit() / rollback() end it, and close() returns the connection to the
// pool after rolling back whatever is still open.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/core/isolation_level.hpp"
#include "corm/core/result.hpp"
#include "corm/core/detail/transaction_state.hpp"
#include "corm/engine/transaction.hpp"
#include "corm/sql/compiled.hpp"
#include "corm/sql/text.hpp"

namespace corm {

class Error;
namespace detail {
struct EngineState;
}
struct PooledConnection;
namespace driver {
class Connection;
}

/// A checked-out connection. Not thread-safe: use it from one thread at a time. Move-only;
/// destroying it returns the connection to the pool (rolling back an open transaction).
class Connection {
 public:
  /// Takes over the other connection, which is left closed.
  Connection(Connection&&) noexcept;
  /// Closes this connection (as close()), then takes over the other one, which is left closed.
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  /// Runs any statement (text(), select(), insert(), ...) and returns its buffered result.
  template <Executable S>
  Result execute(const S& statement) {
    return execute(Compiled(statement.compile(dialect())));
  }
  /// Runs text() with named parameters: `conn.execute(text("... :id"), {{"id", 7}})`.
  Result execute(const TextClause& statement, const Params& params);
  /// Runs an already compiled statement.
  Result execute(Compiled statement);
  /// Runs SQL in the dialect's own placeholder syntax ($1 / ?1) with positional values.
  Result exec_driver_sql(std::string_view sql, std::vector<Value> params = {});
  /// Runs a read and hands its rows to `on_rows` in slices of at most `yield_per` rows as they
  /// arrive: on PostgreSQL through a server-side cursor (inside the open transaction, or one of
  /// its own in autocommit mode; at most 1,000 rows per FETCH), the next FETCH already with the
  /// server while `on_rows` runs; on SQLite as one slice. An exception from `on_rows` stops the read (the cursor is closed)
  /// and propagates. UsageError when `yield_per` is 0.
  void stream(Compiled statement, std::size_t yield_per, const std::function<void(Result)>& on_rows);
  /// Runs several parameterless statements at once (DDL scripts). Autobegins like execute().
  void execute_script(std::string_view sql);

  /// Begins a transaction now. Throws UsageError when one is already open (use begin_nested()).
  Transaction begin();
  /// Opens a savepoint (beginning the outer transaction first when none is open).
  Transaction begin_nested();
  /// Commits the open transaction (and every savepoint in it); no-op when none is open.
  void commit();
  /// Rolls back the open transaction; no-op when none is open. After a lost connection this is
  /// what clears the error: the next statement runs on a fresh connection.
  void rollback();
  /// True while a transaction is open.
  bool in_transaction() const noexcept;
  /// True while a savepoint is open.
  bool in_nested_transaction() const noexcept;

  /// Isolation level for transactions this connection begins from now on. Throws UsageError
  /// while a transaction is open.
  void set_isolation_level(IsolationLevel level);
  /// The level the next transaction will use (the engine's default unless set here).
  IsolationLevel isolation_level() const noexcept;
  /// Makes the next transaction this connection begins READ ONLY, so the server refuses writes in
  /// it (`START TRANSACTION READ ONLY` on MySQL, `BEGIN READ ONLY` on PostgreSQL). Applies to that
  /// one transaction; throws UsageError inside one and on SQLite.
  void set_next_transaction_read_only();

  /// Returns the connection to the pool, rolling back anything open. Idempotent.
  void close() noexcept;
  /// Marks the physical connection unusable: it is closed, not pooled, when released.
  void invalidate() noexcept;
  /// True after close().
  bool closed() const noexcept;

  /// The dialect of the engine.
  Dialect dialect() const noexcept;
  /// PostgreSQL backend pid of the physical connection (0 on SQLite); checks one out if needed.
  int backend_pid();
  /// The driver connection underneath (checking one out if needed). For extensions only.
  driver::Connection& driver_connection();

 private:
  friend class Engine;
  friend class Transaction;
  Connection(std::shared_ptr<detail::EngineState> engine, std::string_view label, std::source_location where);
  void checkout();

  void ensure_usable();
  void autobegin();
  /// How run() sends: a statement, a plain read that may go ahead of a deferred BEGIN, or a
  /// parameterless control command / script.
  enum class Send : std::uint8_t { statement, read_ahead, control };
  Result run(std::string_view sql, std::span<const Value> params, bool from_cache,
             std::chrono::steady_clock::time_point compiled_at, Send how = Send::statement);
  void run_control(std::string_view sql) { run(sql, {}, false, {}, Send::control); }
  bool run_begin(const std::vector<std::string>& statements);
  void run_end(std::string_view sql);
  void end_savepoint(std::uint64_t id, bool commit);
  void end_transaction_statements(bool rollback);
  void release(bool discard) noexcept;

  std::shared_ptr<detail::EngineState> engine_;
  std::unique_ptr<PooledConnection> pooled_;
  detail::TransactionState tx_;
  std::string label_;            // who checked it out, for the pool's diagnostics
  std::source_location where_;
  bool closed_ = false;
  bool autobegin_deferred_ = false;  // the implicit BEGIN waits to travel with the next statement
};

}  // namespace corm
