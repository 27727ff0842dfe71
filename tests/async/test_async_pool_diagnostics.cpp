// Pool diagnostics on the async front: PoolTimeout names who holds the connections, statistics
// after a known sequence, and leak warnings through the engine's log sink.
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "support/async_test.hpp"
#include "support/test_db.hpp"

using namespace corm;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;

namespace {

awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

TEST_CASE("async: PoolTimeout names each holder, for how long, and whether in a transaction",
          "[async][pool][diagnostics]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 2;
    opts.pool.max_overflow = 0;
    opts.pool.pool_timeout = 200ms;
    auto engine = create_async_engine(ex, test::database_url(), opts);
    const int line = __LINE__ + 1;
    auto plain = co_await engine.connect();
    auto labelled = co_await engine.connect(std::string("report job"));
    (void)co_await labelled.execute(text("SELECT 1"));
    REQUIRE(labelled.in_transaction());
    std::string what;
    try {
      (void)co_await engine.connect();
    } catch (const PoolTimeout& e) {
      what = e.what();
    }
    CHECK_THAT(what, Catch::Contains("2 connections checked out, 1 waiting; no connection became free within 200 ms"));
    CHECK_THAT(what, Catch::Matches(".*; held by: test_async_pool_diagnostics\\.cpp:" + std::to_string(line) +
                                    " for [0-9]+\\.[0-9] s, report job for [0-9]+\\.[0-9] s in a transaction\\. "
                                    "Return connections sooner.*"));
    co_await labelled.close();
    co_await plain.close();
  });
}

TEST_CASE("async: pool statistics and a leak warning after a known sequence", "[async][pool][diagnostics]") {
  std::mutex mu;
  std::vector<std::string> warnings;
  test::run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 1;
    opts.pool.max_overflow = 1;
    opts.pool.pool_timeout = 100ms;
    opts.pool.pool_leak_threshold = 50ms;
    opts.log = [&](LogLevel level, std::string_view line) {
      std::lock_guard lock(mu);
      if (level == LogLevel::warning) warnings.emplace_back(line);
    };
    auto engine = create_async_engine(ex, test::database_url(), opts);
    const int line = __LINE__ + 1;
    auto a = co_await engine.connect();
    auto b = co_await engine.connect(std::string("overflow user"));
    bool timed_out = false;
    try {
      (void)co_await engine.connect();  // waits 100 ms: by then `a` is past the leak threshold
    } catch (const PoolTimeout&) {
      timed_out = true;
    }
    CHECK(timed_out);
    co_await b.close();  // overflow, nobody waiting: closed
    a.invalidate();      // closed as invalidated
    co_await sleep_for(10ms);
    auto c = co_await engine.connect();  // a third connection
    co_await c.close();
    PoolStats s = engine.pool_stats();
    CHECK(s.checkouts == 3);
    CHECK(s.opened == 3);
    CHECK(s.waits == 1);
    CHECK(s.timeouts == 1);
    CHECK(s.closed_for(CloseReason::overflow) == 1);
    CHECK(s.closed_for(CloseReason::invalidated) == 1);
    CHECK(s.checked_out == 0);
    CHECK(s.idle == 1);
    const std::string prom = to_prometheus(s);
    CHECK_THAT(prom, Catch::Contains("\ncorm_pool_timeouts_total 1\n"));
    CHECK_THAT(prom, Catch::Contains("\ncorm_pool_connections_opened_total 3\n"));
    std::lock_guard lock(mu);
    std::size_t about_a = 0;
    for (const auto& w : warnings)
      if (w.find("held by test_async_pool_diagnostics.cpp:" + std::to_string(line) + " for ") != std::string::npos)
        ++about_a;
    CHECK(about_a == 1);
    CHECK(s.leaks_reported >= 1);  // `b` may have been held past the threshold too
  });
}
