#pragma once
// How the async front talks to a database: a driver::Connection that can also run statements
// as coroutines. PostgreSQL implements it with libpq's non-blocking API on the io_context
// (PgAsyncConnection), MySQL with Connector/C's (MysqlAsyncConnection); SQLite runs the
// synchronous driver on one worker thread per connection (ThreadedAsyncConnection). The pool stores them as plain driver::Connections.

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "corm/driver/driver_connection.hpp"

namespace corm::asyncio_detail {

namespace asio = boost::asio;

/// A connection whose statements can be awaited. Cancellation (an Asio cancellation slot, or
/// `||` with a timer) cancels the statement on the server, waits for the connection to be
/// clean again, and then completes with operation_aborted; a connection that cannot be
/// cleaned is marked broken and discarded by the pool. An implementation may queue the statement
/// when the function is called rather than when its awaitable is first resumed (PostgreSQL does,
/// to spare a coroutine frame), so callers await the result at once and keep the arguments
/// alive until it completes.
class AsyncDriverConnection : public driver::Connection {
 public:
  /// Runs one statement. `timeout` > 0 cancels it on the server after that long and throws
  /// QueryCanceled.
  virtual asio::awaitable<std::shared_ptr<const ResultSet>> async_execute(std::string_view sql,
                                                                          std::span<const Value> params,
                                                                          std::chrono::milliseconds timeout) = 0;
  /// Runs a plain read ahead of the commands queued by defer() where the server allows it (see
  /// driver::Connection::execute_read); otherwise exactly async_execute().
  virtual asio::awaitable<std::shared_ptr<const ResultSet>> async_execute_read(std::string_view sql,
                                                                               std::span<const Value> params,
                                                                               std::chrono::milliseconds timeout) {
    return async_execute(sql, params, timeout);
  }
  /// True when plain reads run ahead of a deferred BEGIN here (PostgreSQL whose default
  /// isolation is READ COMMITTED), so a session's reads may use any connection.
  virtual bool reads_precede_begin() const noexcept { return false; }
  /// Runs a read whose rows come in slices of at most `rows_per_slice`, handing each slice to
  /// `on_slice` as it arrives. PostgreSQL reads through a server-side cursor and keeps the next
  /// FETCH in flight while `on_slice` runs; this default runs the statement whole and hands over
  /// one slice (SQLite has no server to overlap with). Slices are never empty. `timeout` applies
  /// to each slice's wait.
  /// When `on_slice` throws, the read is wound down (no further slices) and the exception
  /// propagates.
  virtual asio::awaitable<void> async_execute_sliced(
      std::string_view sql, std::span<const Value> params, std::size_t rows_per_slice,
      std::chrono::milliseconds timeout, const std::function<void(std::shared_ptr<const ResultSet>)>& on_slice) {
    (void)rows_per_slice;
    auto rows = co_await async_execute(sql, params, timeout);
    if (rows->size() > 0) on_slice(std::move(rows));
  }
  /// Runs one statement for every parameter row in as few round trips as the driver can.
  virtual asio::awaitable<std::vector<std::shared_ptr<const ResultSet>>> async_execute_many(
      std::string_view sql, std::span<const std::vector<Value>> rows, std::chrono::milliseconds timeout) = 0;
  /// Runs a parameterless script (BEGIN, COMMIT, DDL).
  virtual asio::awaitable<void> async_execute_script(std::string_view sql, std::chrono::milliseconds timeout) = 0;
  /// Sends a trivial query; false when the connection is dead.
  virtual asio::awaitable<bool> async_ping() = 0;
  /// Connection::reset_session() for the async front: the pool's check-in reset, awaited so that
  /// a driver that needs a round trip for it does not block the io thread.
  virtual asio::awaitable<bool> async_reset_session() { co_return reset_session(); }
  /// True when the check-in reset has work to do that would block (a connection closed without
  /// a coroutine then takes the awaiting path).
  virtual bool reset_pending() const noexcept { return false; }
  /// Something that interrupts whatever this connection runs when it is called: callable from
  /// any thread, never blocking, and harmless once the connection is closed or destroyed (the
  /// pool keeps it beyond the connection's life, for engine.dispose()). Empty when the driver
  /// cannot do that.
  virtual std::function<void()> canceller() { return {}; }
};

/// Opens an async connection for `url` without blocking the calling thread.
asio::awaitable<std::unique_ptr<AsyncDriverConnection>> async_connect(asio::any_io_executor ex, const Url& url,
                                                                      const driver::ConnectOptions& options);

}  // namespace corm::asyncio_detail
