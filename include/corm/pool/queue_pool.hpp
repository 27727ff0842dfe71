#pragma once
// The synchronous front's pool: PoolCore's bookkeeping under a mutex, with checkouts waiting on
// a condition variable. Thread-safe. Connections are opened, pinged and closed outside the lock.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "corm/core/log.hpp"
#include "corm/core/events.hpp"
#include "corm/pool/detail/pool_core.hpp"

namespace corm {

/// Thread-safe bounded pool for the sync front (QueuePool, NullPool and the single-connection
/// pool, chosen by PoolOptions::kind).
class QueuePool {
 public:
  /// Opens a new driver connection when the pool has room; what it throws reaches checkout()'s caller.
  using Connector = std::function<std::unique_ptr<driver::Connection>()>;

  /// `log` receives leak warnings (PoolOptions::pool_leak_threshold).
  QueuePool(PoolOptions options, Connector connector, Events& events, LogSink log);
  ~QueuePool();
  QueuePool(const QueuePool&) = delete;
  QueuePool& operator=(const QueuePool&) = delete;

  /// Waits up to pool_timeout for a connection. Throws PoolTimeout (the pool stayed full,
  /// naming who holds its connections) or ConnectError (the pool had room but the server did
  /// not answer). `site` names the holder until the connection is checked in.
  std::unique_ptr<PooledConnection> checkout(const CheckoutSite& site);
  /// Returns a connection; `discard` closes it instead of keeping it.
  void checkin(std::unique_ptr<PooledConnection> c, bool discard) noexcept;
  /// Counts for monitoring.
  PoolStatus status() const;
  /// Counters for export (to_prometheus()).
  PoolStats stats() const;
  /// Closes idle connections; checked-out ones are closed when they come back. Threads waiting
  /// for a connection stop waiting and get UsageError.
  void dispose() noexcept;

 private:
  std::unique_ptr<PooledConnection> open_new();
  std::unique_ptr<PooledConnection> prepare(Grant g);
  void log_leaks(std::vector<std::string> reports) const noexcept;

  PoolCore core_;
  Connector connector_;
  Events& events_;
  LogSink log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace corm
