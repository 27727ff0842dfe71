#include "asyncio/async_pool.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "corm/core/error.hpp"

namespace corm::asyncio_detail {

// One checkout's wait. Shared by the waiting coroutine, the pool's wake-ups and the caller's
// cancellation handler, so whichever of them runs last keeps it alive. Touched on the strand
// only (`cancelled` may also be set before the wait is spawned onto the strand).
struct AsyncPool::Waiter {
  explicit Waiter(asio::strand<asio::any_io_executor> s) : timer(s) {}
  asio::steady_timer timer;
  bool cancelled = false;  // the caller gave up: stop waiting, hand back any grant
};

namespace {
[[noreturn]] void throw_disposed() {
  throw UsageError("engine.dispose() was called while this coroutine waited for a connection, so the wait ended; "
                   "stop using an engine before disposing of it (a later connect() opens new connections)");
}
}  // namespace

void AsyncPool::close_all(std::vector<std::unique_ptr<PooledConnection>>& v) noexcept {
  if (v.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& c : v)
      if (c) cancellers_.erase(c->id);
  }
  for (auto& c : v)
    if (c && c->conn) c->conn->close();
  v.clear();
}

AsyncPool::AsyncPool(asio::any_io_executor ex, PoolOptions options, Connector connector, Events& events, LogSink log)
    : ex_(ex),
      strand_(asio::make_strand(ex)),
      connector_(std::move(connector)),
      events_(events),
      log_(std::move(log)),
      core_(options) {}

void AsyncPool::log_leaks(const std::vector<std::string>& reports) const noexcept {
  for (const auto& r : reports) {
    try {
      if (log_)
        log_(LogLevel::warning, r);
      else
        stderr_sink(LogLevel::warning, r);
    } catch (...) {
    }
  }
}

void AsyncPool::handed_out(const PooledConnection& c, const CheckoutSite& site) noexcept {
  std::vector<std::string> leaks;
  try {
    std::lock_guard lock(mu_);
    const auto now = PoolCore::Clock::now();
    core_.checked_out(c, site, now);
    leaks = core_.take_leak_reports(now);
  } catch (...) {
    // Out of memory for the holder's label: the checkout still succeeds, named less well.
  }
  log_leaks(leaks);
}

// No checkout or checked-out connection can outlive the pool (each holds the engine), so only
// the idle connections are left to close.
AsyncPool::~AsyncPool() {
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  {
    std::lock_guard lock(mu_);
    core_.drain_idle(to_close);
  }
  for (auto& c : to_close)
    if (c && c->conn) c->conn->close();
}

void AsyncPool::wake(const std::vector<PoolCore::WaiterId>& ids) {
  if (ids.empty()) return;
  // Timers are touched only on the strand. A waiter whose timer is not registered yet finds its
  // grant when it registers, so no wake-up is lost.
  asio::post(strand_, [self = shared_from_this(), ids] {
    for (auto id : ids) {
      auto it = self->waiters_.find(id);
      if (it != self->waiters_.end()) it->second->timer.cancel();
    }
  });
}

// Runs on the strand: waits until this waiter is granted a connection, times out, or the caller
// is cancelled (checkout() forwards that by setting `waiter->cancelled` and cancelling the timer
// on the strand). Returns the grant, or nullopt after a timeout.
asio::awaitable<std::optional<Grant>> AsyncPool::wait_for_grant(PoolCore::WaiterId id, std::shared_ptr<Waiter> waiter,
                                                                 PoolCore::Clock::time_point started) {
  waiter->timer.expires_after(core_.options().pool_timeout);
  waiters_.emplace(id, waiter);
  if (!waiter->cancelled) {
    std::lock_guard lock(mu_);
    if (auto g = core_.take_grant(id)) {
      waiters_.erase(id);
      core_.waited(PoolCore::Clock::now() - started, false);
      co_return g;
    }
    if (core_.take_disposed(id)) {
      waiters_.erase(id);
      core_.waited(PoolCore::Clock::now() - started, false);
      throw_disposed();
    }
  }
  if (!waiter->cancelled) {
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  waiters_.erase(id);
  const bool cancelled = waiter->cancelled;
  std::vector<PoolCore::WaiterId> woken;
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  std::optional<Grant> grant;
  std::string timeout_message;
  std::vector<std::string> leaks;
  bool disposed = false;
  {
    std::lock_guard lock(mu_);
    const auto now = PoolCore::Clock::now();
    grant = core_.take_grant(id);
    disposed = !grant && core_.take_disposed(id);
    core_.waited(now - started, !grant && !disposed && !cancelled);
    if (disposed) {
      // dispose() removed the wait and freed its grant already.
    } else if (!grant) {
      // Counted before this waiter leaves the queue: it was one of those waiting.
      if (!cancelled) {
        timeout_message = core_.timeout_message(now);
        leaks = core_.take_leak_reports(now);
      }
      core_.cancel_waiter(id, woken, to_close);
    } else if (cancelled) {
      // Granted at the instant the caller gave up: pass the connection on, lose nothing.
      core_.release_grant(std::move(*grant), woken, to_close);
      grant.reset();
    }
  }
  wake(woken);
  close_all(to_close);
  log_leaks(leaks);
  if (cancelled) throw boost::system::system_error(asio::error::operation_aborted);
  if (disposed) throw_disposed();
  if (!grant) throw PoolTimeout(timeout_message);
  co_return grant;
}

asio::awaitable<std::unique_ptr<PooledConnection>> AsyncPool::checkout(CheckoutSite site) {
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  std::optional<Grant> grant;
  PoolCore::WaiterId id = 0;
  {
    std::lock_guard lock(mu_);
    grant = core_.try_acquire(PoolCore::Clock::now(), to_close);
    if (!grant) id = core_.enqueue_waiter();
  }
  close_all(to_close);
  // From here a queued waiter must be dequeued and a grant must reach prepare() or go back,
  // whatever happens. Asio throws at any co_await once the caller is cancelled (even for a
  // cancellation that fired before this point), which would skip that bookkeeping and leak a
  // slot, so the rest runs with that check off and looks for cancellation itself.
  const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  const auto cancelled = [&cs] { return cs.cancelled() != asio::cancellation_type::none; };
  std::exception_ptr error;
  std::unique_ptr<PooledConnection> c;
  if (!grant) {
    const auto started = PoolCore::Clock::now();
    auto waiter = std::make_shared<Waiter>(strand_);
    // The wait runs on the strand and is awaited with no cancellation slot: Asio 1.81's co_spawn
    // forwards a cancellation by posting a raw pointer to its signal onto the strand, which
    // dangles when the wait completes first (a use after free on multi-threaded io_contexts).
    // The caller's cancellation is forwarded by hand instead, through the shared waiter.
    asio::cancellation_slot slot = cs.slot();
    bool forwarding = false;
    if (cancelled()) {
      waiter->cancelled = true;  // before the wait is spawned, so the strand sees it
    } else if (slot.is_connected()) {
      slot.assign([self = shared_from_this(), waiter](asio::cancellation_type) {
        asio::post(self->strand_, [waiter] {
          waiter->cancelled = true;
          waiter->timer.cancel();
        });
      });
      forwarding = true;
    }
    try {
      auto no_cancel = asio::bind_cancellation_slot(asio::cancellation_slot(), asio::use_awaitable);
      grant = co_await asio::co_spawn(strand_, wait_for_grant(id, waiter, started), std::move(no_cancel));
    } catch (...) {
      error = std::current_exception();
    }
    if (forwarding) slot.clear();
  }
  if (grant && cancelled()) {
    // Cancelled before the connection could be prepared (e.g. the instant it was handed over):
    // pass it on and report the cancel.
    give_back(std::move(*grant));
    grant.reset();
    error = std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
  }
  if (grant) {
    try {
      c = co_await prepare(std::move(*grant));
    } catch (...) {
      error = std::current_exception();
    }
    if (c && cancelled()) {
      // Cancelled while it was being connected or pinged, too late to interrupt that: a
      // cancelled checkout hands out nothing (and reports no checkout or checkin event).
      std::vector<PoolCore::WaiterId> woken;
      {
        std::lock_guard lock(mu_);
        core_.release(std::move(c), false, PoolCore::Clock::now(), woken, to_close);
      }
      wake(woken);
      close_all(to_close);
      error = std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
    }
  }
  co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
  if (error) std::rethrow_exception(error);
  handed_out(*c, site);
  events_.emit_checkout({c->id, c->conn->backend_pid()});
  co_return c;
}

std::unique_ptr<PooledConnection> AsyncPool::checkout_ready(const CheckoutSite& site) {
  std::unique_ptr<PooledConnection> c;
  std::vector<std::string> leaks;
  {
    std::lock_guard lock(mu_);
    const auto now = PoolCore::Clock::now();
    c = core_.take_ready_idle(now);
    if (c) {
      core_.checked_out(*c, site, now);
      leaks = core_.take_leak_reports(now);
    }
  }
  if (!c) return c;
  log_leaks(leaks);
  events_.emit_checkout({c->id, c->conn->backend_pid()});
  return c;
}

void AsyncPool::give_back(Grant g) noexcept {
  std::vector<PoolCore::WaiterId> woken;
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  {
    std::lock_guard lock(mu_);
    core_.release_grant(std::move(g), woken, to_close);
  }
  try {
    wake(woken);
  } catch (...) {
  }
  close_all(to_close);
}

// Runs inside checkout() with Asio's throw-on-cancelled check off: every path reaches the
// bookkeeping (a failed open frees the slot).
asio::awaitable<std::unique_ptr<PooledConnection>> AsyncPool::open_new() {
  auto c = std::make_unique<PooledConnection>();
  std::exception_ptr failed;
  if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
    failed = std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
  } else {
    try {
      c->conn = co_await connector_();
    } catch (...) {
      failed = std::current_exception();
    }
  }
  if (failed) {
    std::vector<PoolCore::WaiterId> woken;
    {
      std::lock_guard lock(mu_);
      core_.open_failed(woken);
    }
    wake(woken);
    std::rethrow_exception(failed);
  }
  c->created = PoolCore::Clock::now();
  auto cancel = static_cast<AsyncDriverConnection&>(*c->conn).canceller();
  {
    std::lock_guard lock(mu_);
    c->id = core_.opened();
    ++opened_;
    if (cancel) cancellers_.emplace(c->id, std::move(cancel));
  }
  events_.emit_connect({c->id, c->conn->backend_pid()});
  co_return c;
}

// Turns a grant into a usable connection: opens a new one, or pre-pings an idle one and replaces
// it when it is dead (its slot is reused, so the bookkeeping does not change). Runs inside
// checkout() with Asio's throw-on-cancelled check off, so no co_await here can drop the grant.
asio::awaitable<std::unique_ptr<PooledConnection>> AsyncPool::prepare(Grant g) {
  if (!g.idle) co_return co_await open_new();
  if (g.needs_ping) {
    auto* ac = static_cast<AsyncDriverConnection*>(g.idle->conn.get());
    bool alive = false;
    std::exception_ptr interrupted;
    try {
      alive = co_await ac->async_ping();
    } catch (...) {
      interrupted = std::current_exception();  // the caller was cancelled during the ping
    }
    if (interrupted) {
      // The connection is mid-ping (unknown protocol state): close it and give its slot back,
      // or the pool would count it as checked out forever.
      std::vector<PoolCore::WaiterId> woken;
      std::vector<std::unique_ptr<PooledConnection>> to_close;
      {
        std::lock_guard lock(mu_);
        core_.release(std::move(g.idle), true, PoolCore::Clock::now(), woken, to_close);
      }
      wake(woken);
      close_all(to_close);
      std::rethrow_exception(interrupted);
    }
    if (!alive) {
      {
        std::lock_guard lock(mu_);
        core_.closed_by_front(CloseReason::pre_ping_failed);
      }
      std::vector<std::unique_ptr<PooledConnection>> dead;
      dead.push_back(std::move(g.idle));
      close_all(dead);
      co_return co_await open_new();
    }
  }
  co_return std::move(g.idle);
}

void AsyncPool::checkin(std::unique_ptr<PooledConnection> c, bool discard) noexcept {
  if (!c) return;
  try {
    events_.emit_checkin({c->id, c->conn ? c->conn->backend_pid() : 0});
  } catch (...) {
  }
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  std::vector<PoolCore::WaiterId> woken;
  std::vector<std::string> leaks;
  {
    std::lock_guard lock(mu_);
    const auto now = PoolCore::Clock::now();
    core_.release(std::move(c), discard, now, woken, to_close);
    try {
      leaks = core_.take_leak_reports(now);
    } catch (...) {
    }
  }
  try {
    wake(woken);
  } catch (...) {
  }
  close_all(to_close);
  log_leaks(leaks);
}

PoolStatus AsyncPool::status() const {
  std::lock_guard lock(mu_);
  return core_.status();
}

PoolStats AsyncPool::stats() const {
  std::lock_guard lock(mu_);
  return core_.stats();
}

std::uint64_t AsyncPool::opened_total() const {
  std::lock_guard lock(mu_);
  return opened_;
}

void AsyncPool::dispose() noexcept {
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  std::vector<PoolCore::WaiterId> failed;
  std::vector<std::function<void()>> cancels;
  {
    std::lock_guard lock(mu_);
    core_.dispose(failed, to_close);
    for (auto& c : to_close)
      if (c) cancellers_.erase(c->id);
    // What remains is held by users (or mid-open): interrupt it, so no statement keeps running
    // on the server after the program let go of it. Each closes when it comes back.
    cancels.reserve(cancellers_.size());
    for (auto& [id, cancel] : cancellers_) cancels.push_back(std::move(cancel));
    cancellers_.clear();
  }
  for (auto& cancel : cancels) {
    try {
      cancel();
    } catch (...) {
    }
  }
  try {
    wake(failed);  // each waiter wakes on the strand and fails with UsageError
  } catch (...) {
  }
  for (auto& c : to_close)
    if (c && c->conn) c->conn->close();
}

}  // namespace corm::asyncio_detail
