#include "corm/pool/detail/pool_core.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace corm {

PoolCore::PoolCore(PoolOptions options) : options_(options) {
  if (options_.kind == PoolKind::single) {
    options_.pool_size = 1;
    options_.max_overflow = 0;
  }
}

std::size_t PoolCore::capacity() const noexcept { return options_.pool_size + options_.max_overflow; }

bool PoolCore::expired(const PooledConnection& c, Clock::time_point now) const noexcept {
  return options_.pool_recycle.count() > 0 && now - c.created >= options_.pool_recycle;
}

std::optional<Grant> PoolCore::try_acquire(Clock::time_point now,
                                           std::vector<std::unique_ptr<PooledConnection>>& to_close) {
  // Waiters queued before us are served first (FIFO), even if a connection is idle right now.
  if (!waiters_.empty()) return std::nullopt;
  while (!idle_.empty()) {
    auto c = std::move(idle_.front());
    idle_.pop_front();
    if (expired(*c, now)) {
      // Recycled: close it and let the caller open a fresh one in its place.
      to_close.push_back(std::move(c));
      return Grant{};
    }
    return Grant{std::move(c), options_.pool_pre_ping};
  }
  if (open_ < capacity()) {
    ++open_;
    return Grant{};
  }
  return std::nullopt;
}

std::unique_ptr<PooledConnection> PoolCore::take_ready_idle(Clock::time_point now) {
  if (!waiters_.empty() || options_.pool_pre_ping || idle_.empty() || expired(*idle_.front(), now)) return nullptr;
  auto c = std::move(idle_.front());
  idle_.pop_front();
  return c;
}

PoolCore::WaiterId PoolCore::enqueue_waiter() {
  WaiterId id = ++next_waiter_;
  waiters_.push_back(id);
  return id;
}

std::optional<Grant> PoolCore::take_grant(WaiterId id) {
  auto it = granted_.find(id);
  if (it == granted_.end()) return std::nullopt;
  Grant g = std::move(it->second);
  granted_.erase(it);
  return g;
}

void PoolCore::cancel_waiter(WaiterId id, std::vector<WaiterId>& woken,
                             std::vector<std::unique_ptr<PooledConnection>>& to_close) {
  auto w = std::find(waiters_.begin(), waiters_.end(), id);
  if (w != waiters_.end()) {
    waiters_.erase(w);
    return;
  }
  // The grant raced with the cancellation: pass it on rather than leak it.
  if (auto g = take_grant(id)) release_grant(std::move(*g), woken, to_close);
}

void PoolCore::release_grant(Grant g, std::vector<WaiterId>& woken,
                             std::vector<std::unique_ptr<PooledConnection>>& to_close) {
  if (g.idle) {
    release(std::move(g.idle), false, Clock::now(), woken, to_close);
  } else {
    --open_;
    serve_waiters(Clock::now(), woken, to_close);
  }
}

void PoolCore::open_failed(std::vector<WaiterId>& woken) {
  --open_;
  std::vector<std::unique_ptr<PooledConnection>> none;
  serve_waiters(Clock::now(), woken, none);
}

void PoolCore::release(std::unique_ptr<PooledConnection> c, bool discard, Clock::time_point now,
                       std::vector<WaiterId>& woken,
                       std::vector<std::unique_ptr<PooledConnection>>& to_close) {
  const bool over = open_ > options_.pool_size;
  if (discard || options_.kind == PoolKind::null || c == nullptr || c->conn == nullptr ||
      c->conn->is_broken() || expired(*c, now) || (over && waiters_.empty()) ||
      (retired_through_ > 0 && c->id <= retired_through_)) {
    // Overflow connections are closed on check-in, as are broken and expired ones.
    if (c) to_close.push_back(std::move(c));
    --open_;
  } else {
    idle_.push_back(std::move(c));
  }
  serve_waiters(now, woken, to_close);
}

void PoolCore::serve_waiters(Clock::time_point now, std::vector<WaiterId>& woken,
                             std::vector<std::unique_ptr<PooledConnection>>& to_close) {
  while (!waiters_.empty()) {
    WaiterId id = waiters_.front();
    if (!idle_.empty()) {
      auto c = std::move(idle_.front());
      idle_.pop_front();
      if (expired(*c, now)) {
        to_close.push_back(std::move(c));
        granted_.emplace(id, Grant{});  // open a fresh one in its place; the slot stays counted
      } else {
        granted_.emplace(id, Grant{std::move(c), options_.pool_pre_ping});
      }
    } else if (open_ < capacity()) {
      ++open_;
      granted_.emplace(id, Grant{});
    } else {
      return;
    }
    waiters_.pop_front();
    woken.push_back(id);
  }
}

void PoolCore::drain_idle(std::vector<std::unique_ptr<PooledConnection>>& to_close) {
  while (!idle_.empty()) {
    to_close.push_back(std::move(idle_.front()));
    idle_.pop_front();
    --open_;
  }
}

void PoolCore::dispose(std::vector<WaiterId>& failed, std::vector<std::unique_ptr<PooledConnection>>& to_close) {
  drain_idle(to_close);
  retired_through_ = next_id_;
  for (auto& [id, g] : granted_) {
    if (g.idle) to_close.push_back(std::move(g.idle));
    --open_;  // an idle connection closed, or a permit to open one given back
    disposed_.insert(id);
    failed.push_back(id);
  }
  granted_.clear();
  for (WaiterId id : waiters_) {
    disposed_.insert(id);
    failed.push_back(id);
  }
  waiters_.clear();
}

bool PoolCore::take_disposed(WaiterId id) { return disposed_.erase(id) > 0; }

PoolStatus PoolCore::status() const noexcept {
  PoolStatus s;
  s.pool_size = options_.pool_size;
  s.max_overflow = options_.max_overflow;
  s.open = open_;
  s.idle = idle_.size();
  s.checked_out = open_ - idle_.size();
  s.overflow = open_ > options_.pool_size ? open_ - options_.pool_size : 0;
  s.waiters = waiters_.size();
  return s;
}

std::string PoolCore::timeout_message() const {
  PoolStatus s = status();
  return fmt::format(
      "QueuePool limit of size {} overflow {} reached: {} connections checked out, {} waiting; "
      "no connection became free within {} ms. Return connections sooner (close sessions, keep "
      "transactions short) or raise pool_size / max_overflow / pool_timeout",
      s.pool_size, s.max_overflow, s.checked_out, s.waiters, options_.pool_timeout.count());
}

}  // namespace corm
