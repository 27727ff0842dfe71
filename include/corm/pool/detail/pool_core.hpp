#pragma once
// The pool's bookkeeping as plain synchronous code with no I/O and no locking: it decides who
// gets which connection, which connection must be opened, recycled or closed, and which waiter
// is served next (FIFO). The sync pool (QueuePool) drives it under a mutex and waits on a
// condition variable; the async pool drives the same object and waits on Asio timers. Opening,
// pinging and closing connections happen in the fronts, outside any lock.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "corm/driver/driver_connection.hpp"
#include "corm/pool/pool_options.hpp"
#include "corm/pool/pool_stats.hpp"

namespace corm {

/// A physical connection as the pool tracks it.
struct PooledConnection {
  std::unique_ptr<driver::Connection> conn;
  std::chrono::steady_clock::time_point created;
  std::uint64_t id = 0;  ///< Unique per pool, for events and diagnostics.
  /// Set by the front while a transaction is open on it, read by the pool's diagnostics (from
  /// other threads, hence shared and atomic).
  std::shared_ptr<std::atomic<bool>> in_transaction = std::make_shared<std::atomic<bool>>(false);
  /// Why a discarding check-in closes it; the front sets reset_failed when that is the cause.
  CloseReason discard_reason = CloseReason::invalidated;
};

/// Who checked a connection out: the caller's label when given, else where the checkout was
/// written (a defaulted std::source_location on the public connect/session APIs).
struct CheckoutSite {
  std::string_view label;
  std::source_location where;
};

/// What `PoolCore::status()` reports.
struct PoolStatus {
  std::size_t pool_size = 0;     ///< Configured pool_size.
  std::size_t max_overflow = 0;  ///< Configured max_overflow.
  std::size_t open = 0;          ///< Connections open or being opened.
  std::size_t idle = 0;          ///< Open and waiting in the pool.
  std::size_t checked_out = 0;   ///< Held by users.
  std::size_t overflow = 0;      ///< Open beyond pool_size.
  std::size_t waiters = 0;       ///< Checkouts waiting for a connection.
};

/// The right to a connection: either an idle one, or permission to open a new one.
struct Grant {
  std::unique_ptr<PooledConnection> idle;  ///< Null: open a new connection, then call opened().
  bool needs_ping = false;                 ///< pool_pre_ping applies to this idle connection.
};

/// Pool bookkeeping. Not thread-safe; every call happens under the front's lock.
class PoolCore {
 public:
  using Clock = std::chrono::steady_clock;
  using WaiterId = std::uint64_t;

  explicit PoolCore(PoolOptions options);

  /// Immediate checkout: an idle connection (recycled ones are handed back in `to_close`), or
  /// permission to open one, or nullopt when the caller has to wait.
  std::optional<Grant> try_acquire(Clock::time_point now,
                                   std::vector<std::unique_ptr<PooledConnection>>& to_close);

  /// try_acquire() for the case that needs nothing asynchronous: an idle connection that is
  /// not due for recycling or a pre-ping, with no waiter ahead. Null (and nothing changed)
  /// otherwise.
  std::unique_ptr<PooledConnection> take_ready_idle(Clock::time_point now);

  /// Queues a waiter (FIFO). Serve it with take_grant once release() names it.
  WaiterId enqueue_waiter();
  /// A waiter's grant, if release() or open_failed() has given it one.
  std::optional<Grant> take_grant(WaiterId id);
  /// Removes a waiter that gave up (timeout, cancellation). A grant it already received goes to
  /// the next waiter or back to the pool, and that waiter is returned in `woken`.
  void cancel_waiter(WaiterId id, std::vector<WaiterId>& woken,
                     std::vector<std::unique_ptr<PooledConnection>>& to_close);

  /// Gives back a grant its waiter can no longer use (cancelled the instant it was served): the
  /// connection or the permit goes to the next waiter or back to the pool.
  void release_grant(Grant g, std::vector<WaiterId>& woken,
                     std::vector<std::unique_ptr<PooledConnection>>& to_close);

  /// A new connection was opened for a permit-grant: returns its id.
  std::uint64_t opened() noexcept { return ++next_id_; }
  /// Opening a permitted connection failed: the slot is free again; may serve a waiter.
  void open_failed(std::vector<WaiterId>& woken);

  /// Returns a connection. `discard` closes it (broken, invalidated). Connections beyond
  /// pool_size are closed rather than kept. Waiters served are appended to `woken`.
  void release(std::unique_ptr<PooledConnection> c, bool discard, Clock::time_point now,
               std::vector<WaiterId>& woken, std::vector<std::unique_ptr<PooledConnection>>& to_close);

  /// Closes every idle connection; checked-out ones are kept when returned.
  void drain_idle(std::vector<std::unique_ptr<PooledConnection>>& to_close);
  /// engine.dispose(): every idle connection goes to `to_close`, every connection open now is
  /// closed when it comes back (release() discards it), and every wait ends — the waiters, and
  /// those granted a connection they have not taken yet, are appended to `failed` (their grants
  /// freed); take_grant() gives them nothing and take_disposed() says why. The pool stays usable:
  /// later checkouts open new connections.
  void dispose(std::vector<WaiterId>& failed, std::vector<std::unique_ptr<PooledConnection>>& to_close);
  /// True, once, for a waiter whose wait dispose() ended.
  bool take_disposed(WaiterId id);

  /// Counts for monitoring and for PoolTimeout's message.
  PoolStatus status() const noexcept;
  /// Counters and gauges for export (see to_prometheus()).
  PoolStats stats() const noexcept;

  /// Records that `c` was handed to a user at `site` (named by PoolTimeout and leak reports
  /// until it is released).
  void checked_out(const PooledConnection& c, const CheckoutSite& site, Clock::time_point now);
  /// Records a wait for a connection that ended (granted, timed out or abandoned).
  void waited(Clock::duration d, bool timed_out) noexcept;
  /// Records a connection the front closed itself (a failed pre-ping).
  void closed_by_front(CloseReason r) noexcept { ++closed_[static_cast<std::size_t>(r)]; }
  /// Leak warnings that became due (pool_leak_threshold); the front logs them outside its lock.
  /// Scans the holders at most every few milliseconds.
  std::vector<std::string> take_leak_reports(Clock::time_point now);
  /// The configured options.
  const PoolOptions& options() const noexcept { return options_; }
  /// Maximum connections that may be open at once.
  std::size_t capacity() const noexcept;
  /// PoolTimeout's message: size, overflow, checked out, waiters, who holds the connections
  /// (longest first, at most a few), and what to do.
  std::string timeout_message(Clock::time_point now) const;

 private:
  struct Holder {
    std::string label;
    std::source_location where;
    Clock::time_point since;
    std::shared_ptr<const std::atomic<bool>> in_transaction;
    bool reported = false;  // leak warning given for this checkout
  };
  static std::string describe(const Holder& h, Clock::time_point now);
  bool expired(const PooledConnection& c, Clock::time_point now) const noexcept;
  void serve_waiters(Clock::time_point now, std::vector<WaiterId>& woken,
                     std::vector<std::unique_ptr<PooledConnection>>& to_close);

  PoolOptions options_;
  std::deque<std::unique_ptr<PooledConnection>> idle_;
  std::deque<WaiterId> waiters_;
  std::unordered_map<WaiterId, Grant> granted_;
  std::unordered_set<WaiterId> disposed_;  // waiters dispose() ended, until they notice
  std::uint64_t retired_through_ = 0;      // connections with an id up to this close on return
  std::size_t open_ = 0;  // idle + checked out + being opened
  std::uint64_t next_id_ = 0;
  WaiterId next_waiter_ = 0;

  // Diagnostics.
  std::unordered_map<std::uint64_t, Holder> holders_;  // by PooledConnection::id
  std::uint64_t checkouts_ = 0;
  std::uint64_t waits_ = 0;
  std::uint64_t timeouts_ = 0;
  std::array<std::uint64_t, PoolStats::wait_bucket_bounds.size() + 1> wait_buckets_{};
  double wait_seconds_ = 0;
  std::uint64_t connect_failed_ = 0;
  std::array<std::uint64_t, close_reason_count> closed_{};
  std::uint64_t leaks_reported_ = 0;
  Clock::time_point next_leak_scan_{};
};

}  // namespace corm
