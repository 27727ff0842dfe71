#pragma once
// Everything create_engine / create_async_engine accept, with SQLAlchemy's names and defaults.

#include <chrono>
#include <optional>

#include "corm/core/isolation_level.hpp"
#include "corm/core/log.hpp"
#include "corm/driver/driver_connection.hpp"
#include "corm/pool/pool_options.hpp"

namespace corm {

/// Options for an engine. Defaults match SQLAlchemy's (pool_size 5, max_overflow 10,
/// pool_timeout 30 s); SQLite in-memory URLs always get a single shared connection.
struct EngineOptions {
  /// Pool size, overflow, timeout, recycle and pre-ping.
  PoolOptions pool{};
  /// Connect timeout, statement timeout, statement cache size, SQLite settings.
  driver::ConnectOptions connect{};
  /// Isolation level of every transaction, unless a connection or session overrides it.
  std::optional<IsolationLevel> isolation_level{};
  /// PostgreSQL at READ COMMITTED: a transaction's BEGIN waits for its first statement that is
  /// not a plain read (a SELECT that locks nothing and calls only built-in functions), and the
  /// reads before it run on their own. Each READ COMMITTED statement takes its own snapshot, so
  /// they see exactly what they would inside the transaction; a session that only reads then
  /// costs no BEGIN and no ROLLBACK at all. What changes: such reads hold their table locks
  /// only while they run (a concurrent ALTER TABLE need not wait for the session to end), now()
  /// differs between them, and after such a read fails the server has no aborted transaction to
  /// refuse the next statement with (commit() still refuses: roll back as always). Never applies
  /// at REPEATABLE READ or SERIALIZABLE (including a server whose default_transaction_isolation
  /// is stricter) nor on SQLite.
  bool defer_begin_past_reads = true;
  /// Async front, where defer_begin_past_reads applies: the plain reads an AsyncSession makes
  /// before its first write need no connection of their own, so they are queued and sent in one
  /// libpq pipeline with the reads other coroutines queued at the same time, on whichever pooled
  /// connection is free (AsyncEngine::execute_pipelined_read). Coroutines sharing a pool then
  /// pay one round trip per batch instead of one per read. The session takes a connection of its
  /// own at its first write, explicit begin() or non-plain statement, as before.
  bool pipeline_session_reads = true;
  /// Limit for one statement: when it passes, the statement is cancelled (PostgreSQL: on the
  /// server; SQLite: interrupted) and QueryCanceled is raised. The async front times it on the
  /// io_context; the sync front uses it as connect.statement_timeout when that is unset. 0 = none.
  std::chrono::milliseconds command_timeout{0};
  /// Log every statement with its duration (SQLAlchemy's echo=True).
  bool echo = false;
  /// Include parameter values in echo lines. Off by default: values may be personal data.
  bool echo_parameters = false;
  /// Where echo and warnings go; stderr when empty.
  LogSink log{};
};

}  // namespace corm
