#pragma once
// Pool configuration, with SQLAlchemy's names and defaults.

#include <chrono>
#include <cstddef>

namespace corm {

/// Which pool an engine uses.
enum class PoolKind {
  queue,   ///< Bounded pool of pool_size + max_overflow connections (default).
  null,    ///< No pooling: open on checkout, close on check-in.
  single,  ///< Exactly one connection, shared in turn (SQLite in-memory databases).
};

/// Bounded-pool settings (SQLAlchemy QueuePool semantics).
struct PoolOptions {
  /// Which pool to use (default queue; SQLite in-memory URLs always get the single-connection pool).
  PoolKind kind = PoolKind::queue;
  /// Connections kept open when idle.
  std::size_t pool_size = 5;
  /// Extra connections opened under load, closed again when returned.
  std::size_t max_overflow = 10;
  /// How long a checkout waits for a free connection before PoolTimeout.
  std::chrono::milliseconds pool_timeout{30'000};
  /// Replace a connection older than this at checkout; zero or negative disables.
  std::chrono::milliseconds pool_recycle{-1};
  /// Test each connection with a ping at checkout and replace it when dead.
  bool pool_pre_ping = false;
  /// Leak detection: a connection held longer than this is reported once per checkout, as a
  /// warning through the engine's log sink naming who checked it out (label or file:line), for
  /// how long and whether inside a transaction. Checked whenever the pool is used (a checkout,
  /// a check-in, a wait), so a pool nobody touches reports nothing. Zero or negative disables.
  std::chrono::milliseconds pool_leak_threshold{0};
};

}  // namespace corm
