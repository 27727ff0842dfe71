#pragma once
// AsyncConnection: the async front's handle on one pooled connection — the same surface and the
// same transaction rules as the sync Connection (commit as you go, savepoints, isolation
// levels), with every round trip a co_await.
//
// Lifetimes across co_await: arguments are taken by value, so temporaries are safe.
// Cancellation: cancelling the awaiting coroutine (a cancellation slot, or `||` with a timer)
// cancels the statement on the server and drains the connection before the operation completes
// with boost::asio::error::operation_aborted; the connection stays usable (inside a
// transaction, PostgreSQL has aborted that transaction: roll it back).
// Executor: operations complete on the awaiting coroutine's executor.
// Errors: corm::Error subclasses, as on the sync front.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <source_location>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "corm/asyncio/async_transaction.hpp"
#include "corm/core/dialect.hpp"
#include "corm/core/isolation_level.hpp"
#include "corm/core/result.hpp"
#include "corm/core/detail/transaction_state.hpp"
#include "corm/sql/compiled.hpp"
#include "corm/sql/text.hpp"

namespace corm {

struct PooledConnection;
namespace asyncio_detail {
struct AsyncEngineState;
class AsyncDriverConnection;
class ReadPipeline;
}  // namespace asyncio_detail

/// A checked-out connection for coroutines. Use it from one coroutine at a time: a second
/// concurrent use throws UsageError, also when the two run on different threads of the
/// io_context. Destroying it returns the connection to the pool, rolling back anything still
/// open.
class AsyncConnection {
 public:
  /// Takes over the other connection, which is left closed.
  AsyncConnection(AsyncConnection&&) noexcept;
  AsyncConnection& operator=(AsyncConnection&&) = delete;
  ~AsyncConnection();

  /// Runs any statement (text(), select(), insert(), ...).
  template <Executable S>
  boost::asio::awaitable<Result> execute(const S& statement) {
    return execute(Compiled(statement.compile(dialect())));
  }
  /// Runs text() with named parameters.
  boost::asio::awaitable<Result> execute(const TextClause& statement, const Params& params);
  /// Runs an already compiled statement.
  boost::asio::awaitable<Result> execute(Compiled statement);
  /// Runs SQL in the dialect's placeholder syntax ($1 / ?1) with positional values.
  boost::asio::awaitable<Result> exec_driver_sql(std::string sql, std::vector<Value> params = {});
  /// Runs a read and hands its rows to `on_rows` in slices of at most `yield_per` rows as they
  /// arrive: on PostgreSQL through a server-side cursor (DECLARE / FETCH, inside the open
  /// transaction or one of its own; at most 1,000 rows per FETCH), the next FETCH already with
  /// the server while `on_rows` runs; on SQLite as one slice. An exception from `on_rows` stops the read (no further
  /// FETCH, the cursor is closed) and propagates. UsageError when `yield_per` is 0.
  boost::asio::awaitable<void> stream(Compiled statement, std::size_t yield_per, std::function<void(Result)> on_rows);
  /// Runs one statement once per parameter row, in as few round trips as possible (PostgreSQL
  /// pipeline mode). Inside a transaction the batch is all-or-nothing. One Result per row.
  boost::asio::awaitable<std::vector<Result>> execute_many(std::string sql, std::vector<std::vector<Value>> rows);
  /// text() with one Params per row.
  boost::asio::awaitable<std::vector<Result>> execute_many(const TextClause& statement, const std::vector<Params>& rows);
  /// Runs several parameterless statements (DDL scripts).
  boost::asio::awaitable<void> execute_script(std::string sql);

  /// Begins a transaction now; throws UsageError when one is open (use begin_nested()).
  boost::asio::awaitable<AsyncTransaction> begin();
  /// Opens a savepoint (beginning the outer transaction when none is open).
  boost::asio::awaitable<AsyncTransaction> begin_nested();
  /// Commits the open transaction; no-op when none is open.
  boost::asio::awaitable<void> commit();
  /// Rolls back the open transaction; no-op when none is open.
  boost::asio::awaitable<void> rollback();
  /// Returns the connection to the pool after rolling back anything open. Idempotent.
  boost::asio::awaitable<void> close();

  /// True while a transaction is open.
  bool in_transaction() const noexcept { return tx_.in_transaction(); }
  /// True while a savepoint is open.
  bool in_nested_transaction() const noexcept { return tx_.in_nested_transaction(); }
  /// Isolation level for transactions begun from now on; throws UsageError inside one, or while
  /// another coroutine runs an operation on this connection.
  void set_isolation_level(IsolationLevel level);
  /// The level the next transaction will use (the engine's default unless set here).
  IsolationLevel isolation_level() const noexcept { return tx_.isolation_level(); }
  /// Makes the next transaction this connection begins READ ONLY, so the server refuses writes in
  /// it (`START TRANSACTION READ ONLY` on MySQL, `BEGIN READ ONLY` on PostgreSQL). Applies to that
  /// one transaction; throws UsageError inside one and on SQLite.
  void set_next_transaction_read_only();
  /// Client-side limit per statement for this connection (0 = the engine's command_timeout).
  void set_command_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }
  /// Marks the physical connection unusable; it is closed instead of pooled (at the end of the
  /// operation another coroutine is running on it, if any).
  void invalidate() noexcept;
  /// True after close().
  bool closed() const noexcept { return closed_; }
  /// The dialect of the engine.
  Dialect dialect() const noexcept;
  /// PostgreSQL backend pid (0 on SQLite, or when no physical connection is held).
  int backend_pid() const noexcept;

 private:
  friend class AsyncEngine;
  friend class AsyncTransaction;
  friend class asyncio_detail::ReadPipeline;
  AsyncConnection(std::shared_ptr<asyncio_detail::AsyncEngineState> engine, std::unique_ptr<PooledConnection> c,
                  std::string label, std::source_location where);

  class Use;
  asyncio_detail::AsyncDriverConnection& driver() const noexcept;
  // The *_now() functions do what their coroutine would where no reply is needed, without a
  // coroutine frame or a suspension (the common case of a pooled read); false: co_await it.
  bool prepared_now();
  bool autobegin_now();
  bool close_now() noexcept;
  boost::asio::awaitable<void> prepare();
  boost::asio::awaitable<void> settle_abandoned();
  boost::asio::awaitable<void> autobegin();
  boost::asio::awaitable<bool> run_begin(std::vector<std::string> statements);
  boost::asio::awaitable<void> run_end(std::string sql);
  boost::asio::awaitable<void> run_control(std::string sql);
  boost::asio::awaitable<void> end_savepoint(std::uint64_t id, bool commit);
  boost::asio::awaitable<void> finish_transaction(bool send_rollback);
  // commit() / rollback(); false: the caller holds Use already (AsyncTransaction).
  boost::asio::awaitable<void> commit_impl(bool take_use);
  boost::asio::awaitable<void> rollback_impl(bool take_use);
  void failed(bool broken) noexcept;
  void invalidate_now() noexcept;
  void release(bool discard, bool reset = true) noexcept;
  std::chrono::milliseconds timeout() const noexcept;

  std::shared_ptr<asyncio_detail::AsyncEngineState> engine_;
  std::unique_ptr<PooledConnection> pooled_;
  detail::TransactionState tx_;
  std::string label_;  // who checked it out, for the pool's diagnostics
  std::source_location where_;
  std::vector<std::pair<bool, std::uint64_t>> abandoned_;  // (nested, id) dropped while active
  std::chrono::milliseconds timeout_{0};
  bool closed_ = false;
  // Taken by compare-exchange at the start of every operation (Use), so two threads can never
  // both drive the connection; every other member is touched only while it is held.
  std::atomic<bool> busy_{false};
  std::atomic<bool> invalidate_pending_{false};  // invalidate() while busy_: the operation does it
  bool autobegin_deferred_ = false;  // the implicit BEGIN waits to travel with the next statement
};

}  // namespace corm
