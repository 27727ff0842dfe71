#include "asyncio/async_pool.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "corm/core/error.hpp"

namespace corm::asyncio_detail {

struct AsyncPool::Waiter {
  explicit Waiter(asio::strand<asio::any_io_executor> s) : timer(s) {}
  asio::steady_timer timer;
};

namespace {
void close_all(std::vector<std::unique_ptr<PooledConnection>>& v) noexcept {
  for (auto& c : v)
    if (c && c->conn) c->conn->close();
  v.clear();
}
}  // namespace

AsyncPool::AsyncPool(asio::any_io_executor ex, PoolOptions options, Connector connector, Events& events)
    : ex_(ex), strand_(asio::make_strand(ex)), connector_(std::move(connector)), events_(events), core_(options) {}

AsyncPool::~AsyncPool() { dispose(); }

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
// is cancelled. Returns the grant, or nullopt after a timeout.
asio::awaitable<std::optional<Grant>> AsyncPool::wait_for_grant(PoolCore::WaiterId id) {
  // Every path below must reach the bookkeeping, even when cancellation came first.
  co_await asio::this_coro::throw_if_cancelled(false);
  auto waiter = std::make_shared<Waiter>(strand_);
  waiter->timer.expires_after(core_.options().pool_timeout);
  waiters_.emplace(id, waiter);
  {
    std::lock_guard lock(mu_);
    if (auto g = core_.take_grant(id)) {
      waiters_.erase(id);
      co_return g;
    }
  }
  boost::system::error_code ec;
  co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  waiters_.erase(id);
  const bool cancelled = (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none;
  std::vector<PoolCore::WaiterId> woken;
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  std::optional<Grant> grant;
  {
    std::lock_guard lock(mu_);
    grant = core_.take_grant(id);
    if (!grant) {
      core_.cancel_waiter(id, woken, to_close);
    } else if (cancelled) {
      // Granted at the instant the caller gave up: pass the connection on, lose nothing.
      core_.release_grant(std::move(*grant), woken, to_close);
      grant.reset();
    }
  }
  wake(woken);
  close_all(to_close);
  if (cancelled) throw boost::system::system_error(asio::error::operation_aborted);
  co_return grant;
}

asio::awaitable<std::unique_ptr<PooledConnection>> AsyncPool::checkout() {
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  std::optional<Grant> grant;
  PoolCore::WaiterId id = 0;
  std::string timeout_message;
  {
    std::lock_guard lock(mu_);
    grant = core_.try_acquire(PoolCore::Clock::now(), to_close);
    if (!grant) id = core_.enqueue_waiter();
  }
  close_all(to_close);
  if (!grant) {
    // The waiter is queued: whatever happens now (even a cancellation that fired before this
    // point, which Asio would otherwise throw at the next co_await), it must be dequeued.
    const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    std::exception_ptr error;
    try {
      grant = co_await asio::co_spawn(strand_, wait_for_grant(id), asio::use_awaitable);
    } catch (...) {
      error = std::current_exception();
    }
    co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
    if (error) std::rethrow_exception(error);
    if (grant && (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
      // Cancelled before the wait could see it: hand the connection on and report the cancel.
      std::vector<PoolCore::WaiterId> woken;
      {
        std::lock_guard lock(mu_);
        core_.release_grant(std::move(*grant), woken, to_close);
      }
      wake(woken);
      close_all(to_close);
      throw boost::system::system_error(asio::error::operation_aborted);
    }
    if (!grant) {
      std::lock_guard lock(mu_);
      timeout_message = core_.timeout_message();
    }
  }
  if (!grant) throw PoolTimeout(timeout_message);
  auto c = co_await prepare(std::move(*grant));
  events_.emit_checkout({c->id, c->conn->backend_pid()});
  co_return c;
}

asio::awaitable<std::unique_ptr<PooledConnection>> AsyncPool::open_new() {
  auto c = std::make_unique<PooledConnection>();
  std::exception_ptr failed;
  try {
    c->conn = co_await connector_();
  } catch (...) {
    failed = std::current_exception();
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
  {
    std::lock_guard lock(mu_);
    c->id = core_.opened();
    ++opened_;
  }
  events_.emit_connect({c->id, c->conn->backend_pid()});
  co_return c;
}

// Turns a grant into a usable connection: opens a new one, or pre-pings an idle one and replaces
// it when it is dead (its slot is reused, so the bookkeeping does not change).
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
      g.idle->conn->close();
      g.idle.reset();
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
  {
    std::lock_guard lock(mu_);
    core_.release(std::move(c), discard, PoolCore::Clock::now(), woken, to_close);
  }
  try {
    wake(woken);
  } catch (...) {
  }
  close_all(to_close);
}

PoolStatus AsyncPool::status() const {
  std::lock_guard lock(mu_);
  return core_.status();
}

std::uint64_t AsyncPool::opened_total() const {
  std::lock_guard lock(mu_);
  return opened_;
}

void AsyncPool::dispose() noexcept {
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  {
    std::lock_guard lock(mu_);
    core_.drain_idle(to_close);
  }
  close_all(to_close);
}

}  // namespace corm::asyncio_detail
