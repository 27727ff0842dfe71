// The async front on MariaDB runs Connector/C's non-blocking API on the io_context: no thread per
// connection, statements interrupted on the server by cancellation and command_timeout with the
// connection reusable afterwards, and yield_per reads arriving in slices.
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/async_test.hpp"
#include "support/test_db.hpp"

using namespace corm;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

// Threads of this process right now (Linux: one entry per thread under /proc/self/task).
std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

Compiled raw_sql(std::string s) {
  Compiled c;
  c.sql = std::make_shared<const std::string>(std::move(s));
  return c;
}

// Whether the server still runs a statement for session `id` (a KILL QUERY that did not land
// would leave SLEEP running there).
bool session_busy(int id) {
  Engine admin = create_engine(test::mysql_url());
  Connection c = admin.connect();
  auto r = c.execute(text("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = :id AND COMMAND = 'Query'")
                         .bind("id", id));
  return r.scalar_one<std::int64_t>() != 0;
}

}  // namespace

TEST_CASE("mysql async: 16 sessions on one io thread run 800 statements without a thread per connection",
          "[mysql][async]") {
  // One io thread, on this thread: every statement of every session runs here or nowhere.
  asio::io_context io;
  auto engine = create_async_engine(io.get_executor(), test::mysql_url(), [] {
    EngineOptions o;
    o.pool.pool_size = 16;
    o.pool.max_overflow = 0;
    return o;
  }());
  const std::size_t threads_before = thread_count();
  std::size_t threads_during = 0;
  int done = 0, errors = 0;
  std::int64_t sum = 0;
  const auto io_thread = std::this_thread::get_id();
  bool off_thread = false;
  int arrived = 0;
  asio::steady_timer gate(io, asio::steady_timer::time_point::max());
  for (int s = 0; s < 16; ++s) {
    asio::co_spawn(
        io,
        [&, s]() -> awaitable<void> {
          try {
            auto conn = co_await engine.connect();
            for (int i = 0; i < 50; ++i) {
              auto r = co_await conn.execute(text("SELECT :a + :b").bind("a", s).bind("b", i));
              sum += r.scalar_one<std::int64_t>();
              off_thread = off_thread || std::this_thread::get_id() != io_thread;
            }
            // Every session waits here until all 16 have run their statements, so all 16
            // connections are open when the threads are counted.
            if (++arrived == 16) {
              threads_during = thread_count();
              gate.cancel();
            } else {
              boost::system::error_code ec;
              co_await gate.async_wait(asio::redirect_error(use_awaitable, ec));
            }
            co_await conn.close();
          } catch (...) {
            ++errors;
          }
          ++done;
        },
        asio::detached);
  }
  io.run();
  CHECK(errors == 0);
  CHECK(done == 16);
  CHECK_FALSE(off_thread);
  // sum over s < 16, i < 50 of (s + i) = 50 * 120 + 16 * 1225
  CHECK(sum == 50 * 120 + 16 * 1225);
  CHECK(engine.pool_status().checked_out == 0);
  // No worker thread per connection (the threaded path had 16 more).
  CHECK(threads_during == threads_before);
}

TEST_CASE("mysql async: SELECT SLEEP(5) cancelled by a timer stops on the server and the connection is reused",
          "[mysql][async][cancel]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions o;
    o.pool.pool_size = 1;
    o.pool.max_overflow = 0;
    auto engine = create_async_engine(ex, test::mysql_url(), o);
    auto conn = co_await engine.connect();
    const int session = conn.backend_pid();
    asio::steady_timer t(ex, 100ms);
    auto r = co_await (conn.execute(text("SELECT SLEEP(5)")) || t.async_wait(use_awaitable));
    CHECK(r.index() == 1);
    CHECK_FALSE(session_busy(session));  // KILL QUERY landed before execute() gave up
    co_await conn.rollback();
    // The same session, answering at once: nothing half-read is left on it.
    CHECK(conn.backend_pid() == session);
    auto seven = co_await conn.execute(text("SELECT 7"));
    CHECK(seven.scalar_one<int>() == 7);
    co_await conn.close();
    // Given back clean and kept: the pool's only connection is the same session.
    auto again = co_await engine.connect();
    CHECK(again.backend_pid() == session);
    auto one = co_await again.execute(text("SELECT 1"));
    CHECK(one.scalar_one<int>() == 1);
    co_await again.close();
    CHECK(engine.pool_status().checked_out == 0);
  });
}

TEST_CASE("mysql async: command_timeout stops SELECT SLEEP(5) with QueryCanceled and the connection stays usable",
          "[mysql][async][timeout]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    EngineOptions o;
    o.command_timeout = 200ms;
    auto engine = create_async_engine(ex, test::mysql_url(), o);
    auto conn = co_await engine.connect();
    const int session = conn.backend_pid();
    std::string message;
    try {
      co_await conn.execute(text("SELECT SLEEP(5)"));
    } catch (const QueryCanceled& e) {
      message = e.what();
    }
    CHECK(message.find("ran longer than command_timeout (200 ms) and was cancelled on the server") !=
          std::string::npos);
    CHECK_FALSE(session_busy(session));
    co_await conn.rollback();
    CHECK(conn.backend_pid() == session);
    auto one = co_await conn.execute(text("SELECT 1"));
    CHECK(one.scalar_one<int>() == 1);
    co_await conn.close();
  });
}

TEST_CASE("mysql async: a yield_per read of 20,000 rows arrives in slices, and the connection is clean after",
          "[mysql][async][stream]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::mysql_url());
    auto conn = co_await engine.connect();
    std::vector<std::size_t> slices;
    std::int64_t expected = 1;
    bool in_order = true;
    std::function<void(Result)> on_rows = [&](Result slice) {
      slices.push_back(slice.size());
      for (const Row& row : slice) in_order = in_order && row.get<std::int64_t>(0) == expected++;
    };
    // MariaDB's sequence engine: 20,000 rows without a table.
    co_await conn.stream(raw_sql("SELECT seq, REPEAT('x', 100) FROM seq_1_to_20000"), 3000, on_rows);
    CHECK(slices == std::vector<std::size_t>{3000, 3000, 3000, 3000, 3000, 3000, 2000});
    CHECK(in_order);
    CHECK(expected == 20001);

    // A caller that stops after the first slice: the rest is read off the network and the
    // connection answers its next statement.
    int calls = 0;
    std::function<void(Result)> stop = [&](Result) {
      ++calls;
      throw std::runtime_error("enough");
    };
    bool stopped = false;
    try {
      co_await conn.stream(raw_sql("SELECT seq FROM seq_1_to_20000"), 100, stop);
    } catch (const std::runtime_error&) {
      stopped = true;
    }
    CHECK(stopped);
    CHECK(calls == 1);
    auto seven = co_await conn.execute(text("SELECT 7"));
    CHECK(seven.scalar_one<int>() == 7);
    co_await conn.close();
  });
}
