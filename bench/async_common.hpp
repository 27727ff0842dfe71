#pragma once
// What the coroutine peers (corm-core-async, corm-orm-async) share: the median of three timed
// passes after a warm-up, passes paired with raw libpq's, a wait for spawned tasks, and failing
// the run when a task throws.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "common.hpp"
#include "raw_libpq_baseline.hpp"

namespace bench {

/// Median of t[1..3]; t[0] is the warm-up.
inline double median3(std::vector<double> t) {
  std::vector<double> v(t.begin() + 1, t.end());
  std::sort(v.begin(), v.end());
  std::fprintf(stderr, "  times: %.4f %.4f %.4f s\n", v[0], v[1], v[2]);
  return v[1];
}

/// paired() with a coroutine corm pass (`awaitable<double>()`); the raw pass blocks the thread,
/// which runs nothing else meanwhile. The callables are named locals of the caller (no lambdas
/// inside co_await: GCC 12).
template <class CormPass, class RawPass>
boost::asio::awaitable<PairedTimes> paired_async(CormPass corm, RawPass raw, std::function<void()> after_first = {}) {
  PairedTimes p;
  co_await corm();  // warm-up
  p.corm.push_back(co_await corm());
  if (after_first) after_first();
  raw();  // warm-up
  p.raw.push_back(raw());
  p.raw.push_back(raw());
  p.corm.push_back(co_await corm());
  p.corm.push_back(co_await corm());
  p.raw.push_back(raw());
  co_return p;
}

/// A coroutine peer's own passes, where there is no raw libpq to pair with (SQLite): the median
/// of 3 after a warm-up, in seconds.
template <class CormPass>
boost::asio::awaitable<double> median_of_own_passes(CormPass corm_pass) {
  std::vector<double> t;
  for (int r = 0; r < 4; ++r) t.push_back(co_await corm_pass());
  co_return median3(t);
}

/// W1 for a coroutine peer: on SQLite its own passes (median of 3 after a warm-up); on PostgreSQL
/// paired with raw libpq's lookups of the same `ids`. `corm_pass` returns an awaitable<double>.
template <class CormPass>
boost::asio::awaitable<void> report_w1(CormPass corm_pass, const char* peer, bool sqlite, std::string dsn,
                                       const std::vector<std::int64_t>& ids, std::int64_t want) {
  if (sqlite) {
    const double t = co_await median_of_own_passes(corm_pass);
    report("W1", peer, "ops_per_s", w1_lookups / t);
    co_return;
  }
  raw::Baseline raw(dsn);
  auto raw_pass = [&] { return raw::w1_pass(raw.conn(), ids, want); };
  const PairedTimes p = co_await paired_async(corm_pass, raw_pass);
  p.report("W1", peer, "ops_per_s", w1_lookups);
}

/// W3 for a coroutine peer: on SQLite its own passes (median of 3 after a warm-up); on PostgreSQL
/// paired with raw libpq's, the peak memory read before the first raw pass. `corm_pass` returns
/// an awaitable<double> of the seconds a pass took.
template <class CormPass>
boost::asio::awaitable<void> report_w3(CormPass corm_pass, const char* peer, bool sqlite, std::string dsn) {
  if (sqlite) {
    const double t = co_await median_of_own_passes(corm_pass);
    report("W3", peer, "rows_per_s", w3_rows / t);
    report("W3", peer, "peak_rss_mb", peak_rss_mb());
    co_return;
  }
  const auto want = w3_expect();
  raw::Baseline raw(dsn);
  double peak = 0;
  auto raw_pass = [&] { return raw::w3_pass(raw.conn(), want); };
  std::function<void()> read_peak = [&] { peak = peak_rss_mb(); };
  const PairedTimes p = co_await paired_async(corm_pass, raw_pass, read_peak);
  p.report("W3", peer, "rows_per_s", w3_rows);
  report("W3", peer, "peak_rss_mb", peak);
}

/// W4 for a coroutine peer: on SQLite its own passes (median of 3 after a warm-up); on PostgreSQL
/// paired with raw libpq's loads. `corm_pass` returns an awaitable<double> of the seconds
/// w4_loads loads took.
template <class CormPass>
boost::asio::awaitable<void> report_w4(CormPass corm_pass, const char* peer, bool sqlite, std::string dsn) {
  if (sqlite) {
    const double t = co_await median_of_own_passes(corm_pass);
    report("W4", peer, "loads_per_s", w4_loads / t);
    co_return;
  }
  const auto want = w4_pages_sum();
  raw::Baseline raw(dsn);
  auto raw_pass = [&] { return raw::w4_pass(raw.conn(), want); };
  const PairedTimes p = co_await paired_async(corm_pass, raw_pass);
  p.report("W4", peer, "loads_per_s", w4_loads);
}

/// W3 read whole, not in slices, paired with raw libpq as report_w3 does; printed to stderr only
/// (a diagnostic beside the contract's figures): what yield_per gains. PostgreSQL only.
template <class CormPass>
boost::asio::awaitable<void> report_w3_whole(CormPass corm_pass, const char* peer, std::string dsn) {
  const auto want = w3_expect();
  raw::Baseline raw(dsn);
  auto raw_pass = [&] { return raw::w3_pass(raw.conn(), want); };
  const PairedTimes p = co_await paired_async(corm_pass, raw_pass);
  std::fprintf(stderr, "  W3 %s read whole (no yield_per): ratio_to_raw_libpq %.3f\n", peer, p.ratio_median());
}

/// Waits for `pending` spawned tasks (no braced lists or lambdas inside co_await: GCC 12).
struct WaitGroup {
  explicit WaitGroup(boost::asio::any_io_executor ex) : timer(ex, boost::asio::steady_timer::time_point::max()) {}
  void done() {
    if (--pending == 0) timer.cancel();
  }
  boost::asio::awaitable<void> wait() {
    while (pending > 0) {
      boost::system::error_code ec;
      co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
  }
  boost::asio::steady_timer timer;
  int pending = 0;
};

/// Completion handler of co_spawn: a task that threw fails the whole run.
inline void on_task_done(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    fail(std::string("task failed: ") + x.what());
  }
}

}  // namespace bench
