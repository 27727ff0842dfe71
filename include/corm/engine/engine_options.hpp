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
  /// Client-side limit for one statement (async front): when it passes, the statement is
  /// cancelled on the server and QueryCanceled is raised. 0 = none.
  std::chrono::milliseconds command_timeout{0};
  /// Log every statement with its duration (SQLAlchemy's echo=True).
  bool echo = false;
  /// Include parameter values in echo lines. Off by default: values may be personal data.
  bool echo_parameters = false;
  /// Where echo and warnings go; stderr when empty.
  LogSink log{};
};

}  // namespace corm
