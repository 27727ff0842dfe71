#include "corm/pool/detail/pool_core.hpp"

#include <algorithm>
#include <string_view>

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
      ++closed_[static_cast<std::size_t>(CloseReason::recycled)];
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
  ++connect_failed_;
  std::vector<std::unique_ptr<PooledConnection>> none;
  serve_waiters(Clock::now(), woken, none);
}

void PoolCore::release(std::unique_ptr<PooledConnection> c, bool discard, Clock::time_point now,
                       std::vector<WaiterId>& woken,
                       std::vector<std::unique_ptr<PooledConnection>>& to_close) {
  const bool over = open_ > options_.pool_size;
  if (c) holders_.erase(c->id);
  std::optional<CloseReason> reason;
  if (c == nullptr || c->conn == nullptr || c->conn->is_broken())
    reason = CloseReason::broken;
  else if (discard)
    reason = c->discard_reason;
  else if (options_.kind == PoolKind::null || (retired_through_ > 0 && c->id <= retired_through_))
    reason = CloseReason::disposed;
  else if (expired(*c, now))
    reason = CloseReason::recycled;
  else if (over && waiters_.empty())
    reason = CloseReason::overflow;
  if (reason) {
    // Overflow connections are closed on check-in, as are broken and expired ones.
    ++closed_[static_cast<std::size_t>(*reason)];
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
        ++closed_[static_cast<std::size_t>(CloseReason::recycled)];
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
    ++closed_[static_cast<std::size_t>(CloseReason::disposed)];
  }
}

void PoolCore::dispose(std::vector<WaiterId>& failed, std::vector<std::unique_ptr<PooledConnection>>& to_close) {
  drain_idle(to_close);
  retired_through_ = next_id_;
  for (auto& [id, g] : granted_) {
    if (g.idle) {
      to_close.push_back(std::move(g.idle));
      ++closed_[static_cast<std::size_t>(CloseReason::disposed)];
    }
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

namespace {
std::string_view base_name(const char* file) noexcept {
  std::string_view f = file ? file : "";
  auto slash = f.find_last_of("/\\");
  return slash == std::string_view::npos ? f : f.substr(slash + 1);
}
double seconds(PoolCore::Clock::duration d) noexcept { return std::chrono::duration<double>(d).count(); }
constexpr std::size_t holders_named = 5;  // PoolTimeout names at most this many holders
}  // namespace

std::string PoolCore::describe(const Holder& h, Clock::time_point now) {
  std::string who = h.label.empty() ? fmt::format("{}:{}", base_name(h.where.file_name()), h.where.line()) : h.label;
  const bool in_tx = h.in_transaction && h.in_transaction->load(std::memory_order_relaxed);
  return fmt::format("{} for {:.1f} s{}", who, seconds(now - h.since), in_tx ? " in a transaction" : "");
}

void PoolCore::checked_out(const PooledConnection& c, const CheckoutSite& site, Clock::time_point now) {
  ++checkouts_;
  Holder& h = holders_[c.id];
  h.label.assign(site.label);
  h.where = site.where;
  h.since = now;
  h.in_transaction = c.in_transaction;
  h.reported = false;
}

void PoolCore::waited(Clock::duration d, bool timed_out) noexcept {
  ++waits_;
  if (timed_out) ++timeouts_;
  const double s = seconds(d);
  wait_seconds_ += s;
  std::size_t i = 0;
  while (i < PoolStats::wait_bucket_bounds.size() && s > PoolStats::wait_bucket_bounds[i]) ++i;
  ++wait_buckets_[i];
}

std::vector<std::string> PoolCore::take_leak_reports(Clock::time_point now) {
  std::vector<std::string> out;
  const auto threshold = options_.pool_leak_threshold;
  if (threshold.count() <= 0 || now < next_leak_scan_) return out;
  // Scanning every holder on every checkout would cost O(pool) each time; a report a few
  // milliseconds late is as useful.
  next_leak_scan_ = now + std::min<Clock::duration>(threshold / 4, std::chrono::milliseconds(100));
  for (auto& [id, h] : holders_) {
    if (h.reported || now - h.since < threshold) continue;
    h.reported = true;
    ++leaks_reported_;
    out.push_back(fmt::format("pool: connection {} checked out longer than pool_leak_threshold ({} ms): held by {}; "
                              "return it sooner (close the session or connection) or raise pool_leak_threshold",
                              id, threshold.count(), describe(h, now)));
  }
  return out;
}

PoolStats PoolCore::stats() const noexcept {
  PoolStats s;
  const PoolStatus st = status();
  s.pool_size = st.pool_size;
  s.max_overflow = st.max_overflow;
  s.open = st.open;
  s.checked_out = st.checked_out;
  s.idle = st.idle;
  s.waiting = st.waiters;
  s.checkouts = checkouts_;
  s.waits = waits_;
  s.timeouts = timeouts_;
  s.wait_buckets = wait_buckets_;
  s.wait_seconds_sum = wait_seconds_;
  s.opened = next_id_;
  s.connect_failed = connect_failed_;
  s.closed = closed_;
  s.leaks_reported = leaks_reported_;
  return s;
}

std::string PoolCore::timeout_message(Clock::time_point now) const {
  PoolStatus s = status();
  std::vector<const Holder*> held;
  held.reserve(holders_.size());
  for (const auto& [id, h] : holders_) held.push_back(&h);
  std::sort(held.begin(), held.end(), [](const Holder* a, const Holder* b) { return a->since < b->since; });
  std::string holders;
  for (std::size_t i = 0; i < held.size() && i < holders_named; ++i) {
    holders += i == 0 ? "; held by: " : ", ";
    holders += describe(*held[i], now);
  }
  if (held.size() > holders_named) holders += fmt::format(", and {} more", held.size() - holders_named);
  return fmt::format(
      "QueuePool limit of size {} overflow {} reached: {} connections checked out, {} waiting; "
      "no connection became free within {} ms{}. Return connections sooner (close sessions, keep "
      "transactions short) or raise pool_size / max_overflow / pool_timeout",
      s.pool_size, s.max_overflow, s.checked_out, s.waiters, options_.pool_timeout.count(), holders);
}

}  // namespace corm
