// PostgreSQL faults seen from the async front: server-side cancellation, terminated backends,
// and a server restart under load. (PostgreSQL only: SQLite has no server to lose.)
#if defined(CORM_TEST_BACKEND_POSTGRES)

#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>
#include <thread>

#include <unistd.h>

#include "support/async_test.hpp"
#include "support/pg_cluster.hpp"
#include "support/test_db.hpp"

using namespace corm;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

awaitable<void> sleep_for(asio::any_io_executor ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex, d);
  co_await t.async_wait(use_awaitable);
}

EngineOptions named(const std::string& app) {
  EngineOptions o;
  o.connect.application_name = app;
  return o;
}

// Statements of `app` still running on the server, seen by a separate sync connection.
std::int64_t active_statements(const std::string& app) {
  auto admin = create_engine(test::pg_url());
  auto c = admin.connect();
  return c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app AND state = 'active'")
                       .bind("app", app))
      .scalar_one<std::int64_t>();
}

int terminate_all(const std::string& app) {
  auto admin = create_engine(test::pg_url());
  auto c = admin.connect();
  auto n = c.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :app")
                         .bind("app", app))
               .scalar_one<std::int64_t>();
  c.commit();
  for (int i = 0; i < 200; ++i) {  // termination is asynchronous: wait until they are gone
    auto left = c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app").bind("app", app))
                    .scalar_one<std::int64_t>();
    c.rollback();
    if (left == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  return static_cast<int>(n);
}

}  // namespace

TEST_CASE("async pg: cancelling pg_sleep(20) returns within a second and the server stops it", "[async][cancel]") {
  const auto app = test::unique_name("cancel20");
  test::run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::pg_url(), named(app));
    auto conn = co_await engine.connect();
    const auto t0 = std::chrono::steady_clock::now();
    asio::steady_timer t(ex, 100ms);
    auto r = co_await (conn.execute(text("SELECT pg_sleep(20)")) || t.async_wait(use_awaitable));
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(r.index() == 1);
    CHECK(took < 1s);
    CHECK(active_statements(app) == 0);  // the server really stopped it
    co_await conn.rollback();
    CHECK((co_await conn.execute(text("SELECT 1"))).scalar_one<int>() == 1);
    co_await conn.close();
    CHECK(engine.pool_status().checked_out == 0);
  });
}

TEST_CASE("async pg: command_timeout raises QueryCanceled and the connection stays usable", "[async][timeout]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.command_timeout = 150ms;
    auto engine = create_async_engine(ex, test::pg_url(), opts);
    auto conn = co_await engine.connect();
    bool canceled = false;
    try {
      co_await conn.execute(text("SELECT pg_sleep(5)"));
    } catch (const QueryCanceled& e) {
      canceled = std::string(e.what()).find("command_timeout") != std::string::npos;
    }
    CHECK(canceled);
    co_await conn.rollback();
    CHECK((co_await conn.execute(text("SELECT 2"))).scalar_one<int>() == 2);
    co_await conn.close();
  });
}

TEST_CASE("async pg: terminated backends are replaced by pre-ping, or fail once with ConnectionLost", "[async][fault]") {
  for (bool pre_ping : {true, false}) {
    const auto app = test::unique_name(pre_ping ? "preping" : "noping");
    test::run_async([&](asio::any_io_executor ex) -> awaitable<void> {
      auto opts = named(app);
      opts.pool.pool_size = 4;
      opts.pool.max_overflow = 0;
      opts.pool.pool_pre_ping = pre_ping;
      auto engine = create_async_engine(ex, test::pg_url(), opts);
      {
        std::vector<AsyncConnection> warm;
        for (int i = 0; i < 4; ++i) warm.push_back(co_await engine.connect());
        for (auto& c : warm) co_await c.execute(text("SELECT 1"));
        for (auto& c : warm) co_await c.close();
      }
      CHECK(terminate_all(app) == 4);
      // Shared with the workers, which outlive this frame if the wait below gives up.
      struct Outcome {
        int ok = 0, lost = 0, other = 0, finished = 0;
        std::vector<std::string> messages;
      };
      auto out = std::make_shared<Outcome>();
      for (int i = 0; i < 40; ++i) {
        asio::co_spawn(
            ex,
            [out, engine]() mutable -> awaitable<void> {
              // Every outcome is counted, so a failure shows up as a count, never as a hang.
              try {
                auto c = co_await engine.connect();
                try {
                  co_await c.execute(text("SELECT 1"));
                  ++out->ok;
                } catch (const ConnectionLost&) {
                  ++out->lost;
                } catch (const std::exception& e) {
                  ++out->other;
                  out->messages.emplace_back(e.what());
                }
                co_await c.close();
              } catch (const std::exception& e) {
                ++out->other;
                out->messages.emplace_back(std::string("connect/close: ") + e.what());
              }
              ++out->finished;
            },
            asio::detached);
      }
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (out->finished < 40 && std::chrono::steady_clock::now() < deadline) co_await sleep_for(ex, 5ms);
      for (const auto& m : out->messages) UNSCOPED_INFO(m);
      if (out->finished < 40) {
        // A worker is stuck: record it and stop the io_context, so the run ends instead of hanging.
        FAIL_CHECK("only " << out->finished << " of 40 workers finished within 60 s");
        static_cast<asio::io_context&>(asio::query(ex, asio::execution::context)).stop();
        co_return;
      }
      CHECK(out->other == 0);
      if (pre_ping) {
        CHECK(out->ok == 40);
      } else {
        CHECK(out->lost >= 1);  // a dead connection is discovered by the statement that uses it...
        CHECK(out->lost <= 4);  // ...once: it is then discarded and replaced
        CHECK(out->ok == 40 - out->lost);
      }
      CHECK(engine.pool_status().checked_out == 0);
    });
  }
}

TEST_CASE("async pg: the engine recovers from a server restart without a process restart", "[async][fault][restart]") {
  // A cluster of the test's own: restarting CORM_TEST_PG would cut the standby's stream too.
  test::Cluster pg;
  const std::string restart = test::as_postgres(pg.restart_command());
  test::run_async([&](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions opts;
    opts.pool.pool_size = 4;
    opts.pool.pool_pre_ping = true;
    opts.pool.pool_timeout = 10s;
    auto engine = create_async_engine(ex, pg.url(), opts);
    bool stop = false;
    int before = 0, during_failures = 0, workers = 0;
    for (int w = 0; w < 4; ++w) {
      ++workers;
      asio::co_spawn(
          ex,
          [&]() -> awaitable<void> {
            while (!stop) {
              bool failed = false;
              try {
                auto c = co_await engine.connect();
                co_await c.execute(text("SELECT 1"));
                co_await c.close();
                ++before;
              } catch (const Error&) {
                failed = true;  // expected while the server is down
              }
              if (failed) {
                ++during_failures;
                co_await sleep_for(ex, 20ms);
              }
            }
            --workers;
          },
          asio::detached);
    }
    co_await sleep_for(ex, 200ms);
    CHECK(std::system(restart.c_str()) == 0);  // blocks this thread for the restart's duration
    co_await sleep_for(ex, 300ms);
    stop = true;
    while (workers > 0) co_await sleep_for(ex, 10ms);
    // After the restart every new statement succeeds, with no reset call.
    for (int i = 0; i < 8; ++i) {
      auto c = co_await engine.connect();
      CHECK((co_await c.execute(text("SELECT 3"))).scalar_one<int>() == 3);
      co_await c.close();
    }
    CHECK(before > 0);
  });
}

#endif
