#pragma once
// The one small interface the fronts drive. A driver connection runs a statement written in its
// dialect's placeholder syntax with bound values and returns a fully read ResultSet; it knows
// nothing of pools, transactions or the ORM. Errors are corm::Error subclasses, already
// classified (IntegrityError, DeadlockDetected, ConnectionLost, ...).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "corm/core/dialect.hpp"
#include "corm/core/isolation_level.hpp"
#include "corm/core/result_set.hpp"
#include "corm/core/url.hpp"
#include "corm/core/value.hpp"

namespace corm::driver {

/// Options that shape a physical connection (set once per engine).
struct ConnectOptions {
  /// Give up opening a connection after this long (0 = the driver's default).
  std::chrono::milliseconds connect_timeout{10'000};
  /// PostgreSQL application_name (visible in pg_stat_activity). Empty keeps the URL's.
  std::string application_name;
  /// Server-side statement timeout (PostgreSQL statement_timeout); 0 = none.
  std::chrono::milliseconds statement_timeout{0};
  /// Prepared statements cached per connection (PostgreSQL); 0 turns the cache off (PgBouncer
  /// in transaction mode).
  std::size_t statement_cache_size = 256;
  /// Isolation level every transaction on this connection starts with, when set.
  std::optional<IsolationLevel> isolation_level;
  /// Keeps server messages that may quote a bound value (PostgreSQL's data exceptions, e.g.
  /// "invalid input syntax for type integer: \"ann@example.com\"") out of exception texts and
  /// logs, as SQLAlchemy's hide_parameters does; Error::server_message() always has them.
  bool hide_parameters = true;
  /// SQLite: how long a writer waits for a lock before SQLITE_BUSY.
  std::chrono::milliseconds sqlite_busy_timeout{5'000};
  /// SQLite: use write-ahead logging for file databases.
  bool sqlite_wal = true;
  /// SQLite: enforce foreign keys (off by default in SQLite itself; on in corm).
  bool sqlite_foreign_keys = true;
};

/// One physical database connection. Not thread-safe: the pool hands it to one user at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// The dialect this connection speaks.
  virtual Dialect dialect() const noexcept = 0;
  /// Runs one statement with bound parameters and reads its whole result.
  virtual std::shared_ptr<const ResultSet> execute(std::string_view sql,
                                                   std::span<const Value> params) = 0;
  /// Runs a script of one or more parameterless statements (DDL, migrations).
  virtual void execute_script(std::string_view sql) = 0;
  /// Sends a trivial query; false when the connection is dead (never throws).
  virtual bool ping() noexcept = 0;
  /// True once the connection is known to be unusable (lost, or broken mid-protocol).
  virtual bool is_broken() const noexcept = 0;
  /// True when the server says a transaction is open (including a failed one).
  virtual bool in_transaction() const noexcept = 0;
  /// Server process id (PostgreSQL backend pid; 0 for SQLite).
  virtual int backend_pid() const noexcept = 0;
  /// Closes the connection; idempotent, never throws.
  virtual void close() noexcept = 0;
  /// Asks the statement running right now to stop (PostgreSQL: a cancel request to the server;
  /// SQLite: sqlite3_interrupt). Safe to call from any thread; false when nothing could be sent.
  virtual bool cancel() noexcept { return false; }
  /// Forgets a cancel() that arrived too late to stop anything, so it cannot hit the next
  /// statement. Called by the thread that ran the statement, once it has finished.
  virtual void reset_cancel() noexcept {}
  /// Makes the connection fit for its next user as the pool takes it back (after the closing
  /// ROLLBACK): undoes what outlives a transaction — session settings, advisory locks, LISTEN,
  /// temporary tables (PostgreSQL: sent without waiting, only after a statement that could have
  /// changed them). False when that cannot be done; the pool then closes the connection.
  virtual bool reset_session() noexcept { return true; }

  // Round trips a transaction's edges need not cost. A driver that cannot do this keeps the
  // defaults (false) and the front runs the command itself.

  /// Queues a parameterless command (BEGIN) to travel ahead of the next statement, in the same
  /// round trip; its failure is reported by that statement. False when unsupported.
  virtual bool defer(std::string_view /*sql*/) { return false; }
  /// Drops commands queued by defer() that have not been sent yet; true when there were any
  /// (a transaction that never reached the server needs no ROLLBACK).
  virtual bool discard_deferred() noexcept { return false; }
  /// Sends a parameterless command (the closing ROLLBACK) without waiting for its reply; the
  /// reply is read before the next operation. The server runs it at once, so locks are released
  /// now. False when unsupported.
  virtual bool send_without_reply(std::string_view /*sql*/) { return false; }
  /// Runs a plain read (Compiled::plain_read) ahead of the commands queued by defer(), which
  /// stay queued for the next statement, where that cannot change what the read sees: on a
  /// server whose default isolation is READ COMMITTED every statement takes its own snapshot,
  /// inside a transaction or not. Otherwise (the default) exactly execute().
  virtual std::shared_ptr<const ResultSet> execute_read(std::string_view sql, std::span<const Value> params) {
    return execute(sql, params);
  }
  /// Runs a read whose rows come in slices of at most `rows_per_slice`, each handed to
  /// `on_slice` as it arrives (PostgreSQL: a server-side cursor, the next FETCH in flight while
  /// `on_slice` runs). Slices are never empty. When `on_slice` throws, the read is wound down
  /// and the exception propagates. The default runs the statement whole: one slice.
  virtual void execute_sliced(std::string_view sql, std::span<const Value> params, std::size_t rows_per_slice,
                              const std::function<void(std::shared_ptr<const ResultSet>)>& on_slice) {
    (void)rows_per_slice;
    auto rows = execute(sql, params);
    if (rows->size() > 0) on_slice(std::move(rows));
  }
};

/// Opens a connection for `url`, blocking until it is ready. Throws ConnectError.
std::unique_ptr<Connection> connect(const Url& url, const ConnectOptions& options);

/// Checks a URL and options for this driver without any network I/O; throws ConfigError.
void validate(const Url& url, const ConnectOptions& options);

}  // namespace corm::driver
