#pragma once
// The async front's pool: PoolCore's bookkeeping (the same code the sync pool runs) with an
// async wait. Waiters are served in FIFO order, `pool_timeout` raises PoolTimeout, and no OS
// thread ever blocks. Safe when the io_context runs on several threads: the bookkeeping is under
// a mutex, and each waiter's timer lives on the pool's strand.

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <boost/asio/strand.hpp>

#include "asyncio/async_driver.hpp"
#include "corm/core/log.hpp"
#include "corm/core/events.hpp"
#include "corm/pool/detail/pool_core.hpp"

namespace corm::asyncio_detail {

class AsyncPool : public std::enable_shared_from_this<AsyncPool> {
 public:
  using Connector = std::function<asio::awaitable<std::unique_ptr<AsyncDriverConnection>>()>;

  /// `log` receives leak warnings (PoolOptions::pool_leak_threshold).
  AsyncPool(asio::any_io_executor ex, PoolOptions options, Connector connector, Events& events, LogSink log);
  ~AsyncPool();

  /// Waits (without blocking a thread) up to pool_timeout for a connection. Throws
  /// PoolTimeout, ConnectError, or operation_aborted when the caller is cancelled. `site`
  /// names the holder until check-in (its label must stay valid until this completes).
  asio::awaitable<std::unique_ptr<PooledConnection>> checkout(CheckoutSite site);
  /// checkout() without suspending, when an idle connection needs no ping, recycling or wait
  /// (PoolCore::take_ready_idle); null otherwise.
  std::unique_ptr<PooledConnection> checkout_ready(const CheckoutSite& site);
  /// Returns a connection; `discard` closes it instead of keeping it.
  void checkin(std::unique_ptr<PooledConnection> c, bool discard) noexcept;
  PoolStatus status() const;
  /// Counters for export (to_prometheus()).
  PoolStats stats() const;
  /// engine.dispose(): closes the idle connections, ends every wait for a connection (each
  /// waiter fails once, with UsageError), interrupts what the checked-out connections run
  /// (PostgreSQL: a cancel request) and closes each of them when it is returned. Later
  /// checkouts open new connections.
  void dispose() noexcept;
  /// Connections ever opened (for tests that bound the number of physical connections).
  std::uint64_t opened_total() const;

 private:
  struct Waiter;
  asio::awaitable<std::optional<Grant>> wait_for_grant(PoolCore::WaiterId id, std::shared_ptr<Waiter> waiter,
                                                       PoolCore::Clock::time_point started);
  /// Records the holder of a connection handed out and logs the leak reports due.
  void handed_out(const PooledConnection& c, const CheckoutSite& site) noexcept;
  void log_leaks(const std::vector<std::string>& reports) const noexcept;
  asio::awaitable<std::unique_ptr<PooledConnection>> open_new();
  asio::awaitable<std::unique_ptr<PooledConnection>> prepare(Grant g);
  void wake(const std::vector<PoolCore::WaiterId>& ids);
  /// Hands back a grant its waiter can no longer use (to the next waiter or the pool).
  void give_back(Grant g) noexcept;
  /// Closes connections the bookkeeping let go of, forgetting their cancellers.
  void close_all(std::vector<std::unique_ptr<PooledConnection>>& v) noexcept;

  asio::any_io_executor ex_;
  asio::strand<asio::any_io_executor> strand_;
  Connector connector_;
  Events& events_;
  LogSink log_;
  mutable std::mutex mu_;
  PoolCore core_;
  std::unordered_map<PoolCore::WaiterId, std::shared_ptr<Waiter>> waiters_;  // strand only
  std::uint64_t opened_ = 0;
  // Every connection this pool opened and has not closed, by PooledConnection::id, so dispose()
  // can interrupt the ones users hold. Changes only when a connection opens or closes.
  std::unordered_map<std::uint64_t, std::function<void()>> cancellers_;
};

}  // namespace corm::asyncio_detail
