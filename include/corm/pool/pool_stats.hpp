#pragma once
// Pool statistics a service can export: how many connections are held, idle and waited for, how
// long checkouts waited, and how many connections were opened and closed, and why.
// `to_prometheus()` renders a snapshot in the Prometheus text exposition format:
//
//   std::cout << corm::to_prometheus(engine.pool_stats());   // serve it at /metrics

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace corm {

/// Why the pool closed a connection.
enum class CloseReason : std::uint8_t {
  invalidated,      ///< The user invalidated it (Connection::invalidate()), or it was mid-operation.
  broken,           ///< The connection was lost (the server or the network went away).
  recycled,         ///< Older than pool_recycle.
  pre_ping_failed,  ///< pool_pre_ping found it dead at checkout.
  reset_failed,     ///< The rollback or session reset on check-in failed.
  overflow,         ///< An overflow connection returned with nobody waiting.
  disposed,         ///< engine.dispose() (or the NullPool closing each connection on return).
};
/// Number of CloseReason values.
inline constexpr std::size_t close_reason_count = 7;
/// "invalidated", "broken", "recycled", "pre_ping_failed", "reset_failed", "overflow", "disposed".
std::string_view close_reason_name(CloseReason r) noexcept;

/// A snapshot of one pool's counters (Engine::pool_stats(), AsyncEngine::pool_stats()). Gauges
/// describe the moment of the snapshot; the `_total`-style counters grow from engine creation.
struct PoolStats {
  /// Upper bounds (seconds) of the wait-time histogram buckets; a last, unbounded bucket follows.
  static constexpr std::array<double, 9> wait_bucket_bounds{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0};

  std::size_t pool_size = 0;     ///< Configured pool_size.
  std::size_t max_overflow = 0;  ///< Configured max_overflow.
  std::size_t open = 0;          ///< Connections open or being opened.
  std::size_t checked_out = 0;   ///< Held by users (or being opened for one).
  std::size_t idle = 0;          ///< Open and waiting in the pool.
  std::size_t waiting = 0;       ///< Checkouts waiting for a connection now.

  std::uint64_t checkouts = 0;  ///< Checkouts that got a connection.
  std::uint64_t waits = 0;      ///< Checkouts that had to wait (however the wait ended).
  std::uint64_t timeouts = 0;   ///< Waits that ended in PoolTimeout.
  /// Waits per bucket, not cumulative: wait_buckets[i] counts waits of at most
  /// wait_bucket_bounds[i] seconds and more than the bound before; the last bucket the rest.
  std::array<std::uint64_t, wait_bucket_bounds.size() + 1> wait_buckets{};
  double wait_seconds_sum = 0;  ///< Total time spent waiting, in seconds.

  std::uint64_t opened = 0;          ///< Physical connections opened.
  std::uint64_t connect_failed = 0;  ///< Attempts to open one that failed.
  /// Connections closed, by CloseReason.
  std::array<std::uint64_t, close_reason_count> closed{};
  /// Leak warnings logged (see PoolOptions::pool_leak_threshold).
  std::uint64_t leaks_reported = 0;

  /// Connections closed for `r`.
  std::uint64_t closed_for(CloseReason r) const noexcept { return closed[static_cast<std::size_t>(r)]; }
};

/// Renders `stats` in the Prometheus text exposition format (version 0.0.4): gauges
/// `<prefix>_checked_out`, `_idle`, `_waiting`, `_open`, `_size`, `_max_overflow`; counters
/// `_checkouts_total`, `_timeouts_total`, `_connections_opened_total`, `_connect_failures_total`,
/// `_connections_closed_total{reason="…"}`, `_leaks_reported_total`; histogram `_wait_seconds`.
/// `prefix` must be a valid metric name (letters, digits, '_', ':'; not starting with a digit),
/// otherwise ConfigError.
std::string to_prometheus(const PoolStats& stats, std::string_view prefix = "corm_pool");

}  // namespace corm
