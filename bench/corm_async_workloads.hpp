#pragma once
// The parts of W5 and W6 that are the same for every corm coroutine peer (core and ORM): the
// untimed clean-up between W5 passes, and a timed W6 pass around the peer's own transaction.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <corm/asyncio.hpp>

#include "async_common.hpp"

namespace bench {

/// Deletes W5's rows and (PostgreSQL) vacuums books, untimed, so every pass starts from the
/// same heap and indexes instead of one bloated by the previous passes' dead tuples.
inline boost::asio::awaitable<void> w5_clean(corm::AsyncEngine& engine, bool sqlite) {
  auto conn = co_await engine.connect();
  auto del = corm::text("DELETE FROM books WHERE title LIKE 'w5-%'");
  co_await conn.execute(del);
  co_await conn.commit();
  co_await conn.close();
  if (!sqlite) {
    auto vac = co_await engine.connect();
    vac.set_isolation_level(corm::IsolationLevel::autocommit);
    co_await vac.execute_script("VACUUM books");
    co_await vac.close();
  }
}

/// One task of W6: its 50 transactions, then wg.done().
using W6Task = boost::asio::awaitable<void> (*)(corm::AsyncEngine&, int task, WaitGroup& wg);

/// Resets the counters, times the 32 tasks, checks the final sum is exactly 1,600.
inline boost::asio::awaitable<double> w6_pass(corm::AsyncEngine& engine, W6Task task) {
  auto ex = co_await boost::asio::this_coro::executor;
  {
    auto conn = co_await engine.connect();
    auto reset = corm::text("UPDATE counters SET value = 0");
    co_await conn.execute(reset);
    co_await conn.commit();
    co_await conn.close();
  }
  WaitGroup wg(ex);
  auto t0 = Clock::now();
  wg.pending = w6_tasks;
  for (int k = 0; k < w6_tasks; ++k) boost::asio::co_spawn(ex, task(engine, k, wg), on_task_done);
  co_await wg.wait();
  double s = seconds_since(t0);
  auto conn = co_await engine.connect();
  auto q = corm::text("SELECT sum(value) FROM counters");
  corm::Result r = co_await conn.execute(q);
  check_eq(r.scalar_one<std::int64_t>(), w6_tasks * w6_tx_per_task, "W6 final sum");
  co_await conn.close();
  co_return s;
}

}  // namespace bench
