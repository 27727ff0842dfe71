#include "corm/pool/queue_pool.hpp"

#include "corm/core/error.hpp"

namespace corm {

namespace {
void close_all(std::vector<std::unique_ptr<PooledConnection>>& v) noexcept {
  for (auto& c : v)
    if (c && c->conn) c->conn->close();
  v.clear();
}
}  // namespace

QueuePool::QueuePool(PoolOptions options, Connector connector, Events& events, LogSink log)
    : core_(options), connector_(std::move(connector)), events_(events), log_(std::move(log)) {}

void QueuePool::log_leaks(std::vector<std::string> reports) const noexcept {
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

QueuePool::~QueuePool() { dispose(); }

std::unique_ptr<PooledConnection> QueuePool::open_new() {
  auto c = std::make_unique<PooledConnection>();
  try {
    c->conn = connector_();
  } catch (...) {
    std::vector<PoolCore::WaiterId> woken;
    {
      std::lock_guard lock(mu_);
      core_.open_failed(woken);
    }
    if (!woken.empty()) cv_.notify_all();
    throw;
  }
  c->created = PoolCore::Clock::now();
  {
    std::lock_guard lock(mu_);
    c->id = core_.opened();
  }
  events_.emit_connect({c->id, c->conn->backend_pid()});
  return c;
}

// Turns a grant into a usable connection: opens a new one, or pre-pings an idle one and replaces
// it when it is dead.
std::unique_ptr<PooledConnection> QueuePool::prepare(Grant g) {
  if (!g.idle) return open_new();
  if (g.needs_ping && !g.idle->conn->ping()) {
    {
      std::lock_guard lock(mu_);
      core_.closed_by_front(CloseReason::pre_ping_failed);
    }
    g.idle->conn->close();
    g.idle.reset();
    return open_new();  // the dead connection's slot is reused, so no bookkeeping change
  }
  return std::move(g.idle);
}

std::unique_ptr<PooledConnection> QueuePool::checkout(const CheckoutSite& site) {
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  std::optional<Grant> grant;
  {
    std::unique_lock lock(mu_);
    grant = core_.try_acquire(PoolCore::Clock::now(), to_close);
    if (!grant) {
      auto id = core_.enqueue_waiter();
      const auto started = PoolCore::Clock::now();
      auto deadline = started + core_.options().pool_timeout;
      const auto check_disposed = [&] {
        if (core_.take_disposed(id)) {
          core_.waited(PoolCore::Clock::now() - started, false);
          throw UsageError("engine.dispose() was called while this thread waited for a connection, so the wait "
                           "ended; stop using an engine before disposing of it (a later connect() opens new "
                           "connections)");
        }
      };
      while (!(grant = core_.take_grant(id))) {
        check_disposed();
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
          if ((grant = core_.take_grant(id))) break;
          check_disposed();
          const auto now = PoolCore::Clock::now();
          // Counted before this waiter leaves the queue: it was one of those waiting.
          std::string msg = core_.timeout_message(now);
          core_.waited(now - started, true);
          std::vector<PoolCore::WaiterId> woken;
          core_.cancel_waiter(id, woken, to_close);
          auto leaks = core_.take_leak_reports(now);
          lock.unlock();
          close_all(to_close);
          log_leaks(std::move(leaks));
          throw PoolTimeout(msg);
        }
      }
      core_.waited(PoolCore::Clock::now() - started, false);
    }
  }
  close_all(to_close);
  auto c = prepare(std::move(*grant));
  std::vector<std::string> leaks;
  {
    std::lock_guard lock(mu_);
    const auto now = PoolCore::Clock::now();
    core_.checked_out(*c, site, now);
    leaks = core_.take_leak_reports(now);
  }
  log_leaks(std::move(leaks));
  events_.emit_checkout({c->id, c->conn->backend_pid()});
  return c;
}

void QueuePool::checkin(std::unique_ptr<PooledConnection> c, bool discard) noexcept {
  if (!c) return;
  events_.emit_checkin({c->id, c->conn ? c->conn->backend_pid() : 0});
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  std::vector<PoolCore::WaiterId> woken;
  std::vector<std::string> leaks;
  {
    std::lock_guard lock(mu_);
    const auto now = PoolCore::Clock::now();
    core_.release(std::move(c), discard, now, woken, to_close);
    leaks = core_.take_leak_reports(now);
  }
  if (!woken.empty()) cv_.notify_all();
  close_all(to_close);
  log_leaks(std::move(leaks));
}

PoolStatus QueuePool::status() const {
  std::lock_guard lock(mu_);
  return core_.status();
}

PoolStats QueuePool::stats() const {
  std::lock_guard lock(mu_);
  return core_.stats();
}

void QueuePool::dispose() noexcept {
  std::vector<std::unique_ptr<PooledConnection>> to_close;
  std::vector<PoolCore::WaiterId> failed;
  {
    std::lock_guard lock(mu_);
    core_.dispose(failed, to_close);
  }
  if (!failed.empty()) cv_.notify_all();
  close_all(to_close);
}

}  // namespace corm
