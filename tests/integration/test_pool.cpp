// The bounded pool against a real database: exhaustion, overflow, recycling, and no leak of
// file descriptors or memory over many checkouts.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/test_db.hpp"
#include "support/sanitizer.hpp"

using namespace corm;
using namespace std::chrono_literals;

namespace {

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

std::size_t rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  return 0;
}

}  // namespace

TEST_CASE("an exhausted pool raises PoolTimeout after pool_timeout, naming its limits", "[pool]") {
  EngineOptions opts;
  opts.pool.pool_size = 2;
  opts.pool.max_overflow = 1;
  opts.pool.pool_timeout = 300ms;
  auto engine = create_engine(test::database_url(), opts);
  auto a = engine.connect(), b = engine.connect(), c = engine.connect();
  CHECK(engine.pool_status().checked_out == 3);
  CHECK(engine.pool_status().overflow == 1);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    (void)engine.connect();
    FAIL("the fourth checkout must time out");
  } catch (const PoolTimeout& e) {
    const auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(waited >= 300ms);
    CHECK(waited < 3s);
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("size 2") && Catch::Contains("overflow 1") && Catch::Contains("3 connections checked out"));
  }
  CHECK(engine.pool_status().waiters == 0);
}

TEST_CASE("a waiting checkout is served as soon as a connection comes back", "[pool]") {
  EngineOptions opts;
  opts.pool.pool_size = 1;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 10s;
  auto engine = create_engine(test::database_url(), opts);
  std::optional<Connection> held(engine.connect());
  std::thread releaser([&] {
    std::this_thread::sleep_for(100ms);
    held.reset();
  });
  auto conn = engine.connect();  // waits for the release, well within pool_timeout
  releaser.join();
  CHECK(conn.execute(text("SELECT 1"), {}).scalar_one<int>() == 1);
}

TEST_CASE("overflow connections are closed on check-in, pooled ones kept", "[pool]") {
  EngineOptions opts;
  opts.pool.pool_size = 2;
  opts.pool.max_overflow = 3;
  auto engine = create_engine(test::database_url(), opts);
  std::atomic<int> connects{0};
  engine.events().on_connect([&](const ConnectionEvent&) { ++connects; });
  {
    std::vector<Connection> held;
    for (int i = 0; i < 5; ++i) held.push_back(engine.connect());
    CHECK(engine.pool_status().overflow == 3);
    CHECK(connects == 5);
  }
  auto s = engine.pool_status();
  CHECK(s.open == 2);
  CHECK(s.idle == 2);
  CHECK(s.checked_out == 0);
  CHECK(s.overflow == 0);
  // The two kept connections are reused: no new connect.
  { auto a = engine.connect(), b = engine.connect(); }
  CHECK(connects == 5);
}

TEST_CASE("pool_recycle replaces connections older than the limit", "[pool]") {
  EngineOptions opts;
  opts.pool.pool_size = 1;
  opts.pool.pool_recycle = 200ms;
  auto engine = create_engine(test::database_url(), opts);
  std::atomic<int> connects{0};
  engine.events().on_connect([&](const ConnectionEvent&) { ++connects; });
  { auto c = engine.connect(); }
  { auto c = engine.connect(); }
  CHECK(connects == 1);
  std::this_thread::sleep_for(300ms);
  { auto c = engine.connect(); CHECK(c.execute(text("SELECT 1"), {}).scalar_one<int>() == 1); }
  CHECK(connects == 2);
}

TEST_CASE("NullPool opens and closes a connection per checkout", "[pool]") {
  EngineOptions opts;
  opts.pool.kind = PoolKind::null;
  auto engine = create_engine(test::database_url(), opts);
  std::atomic<int> connects{0};
  engine.events().on_connect([&](const ConnectionEvent&) { ++connects; });
  for (int i = 0; i < 3; ++i) {
    auto c = engine.connect();
    c.execute(text("SELECT 1"), {});
  }
  CHECK(connects == 3);
  CHECK(engine.pool_status().open == 0);
}

TEST_CASE("100,000 checkouts leave file descriptors and memory flat", "[pool][soak]") {
  EngineOptions opts;
  opts.pool.pool_size = 4;
  auto engine = create_engine(test::database_url(), opts);
  auto cycle = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto c = engine.connect();
      if (i % 10 == 0) c.execute(text("SELECT 1"), {});
    }
  };
  cycle(5'000);  // warm-up: pool, statement cache and allocator reach their steady state
  const auto fds = open_fds();
  const auto rss = rss_kb();
  cycle(100'000);
  CHECK(open_fds() == fds);
  if (!test::memory_is_instrumented) CHECK(rss_kb() < rss + 2048);  // < 2 MB growth
  CHECK(engine.pool_status().open <= 4);
}

TEST_CASE("the pool is thread-safe under contention and never exceeds its capacity", "[pool]") {
  EngineOptions opts;
  opts.pool.pool_size = 3;
  opts.pool.max_overflow = 2;
  opts.pool.pool_timeout = 30s;
  auto engine = create_engine(test::database_url(), opts);
  std::atomic<int> connects{0}, queries{0};
  std::atomic<std::size_t> max_open{0};
  engine.events().on_connect([&](const ConnectionEvent&) { ++connects; });
  std::vector<std::thread> threads;  // Catch2 assertions are not thread-safe: record, check after
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto c = engine.connect();
        if (c.execute(text("SELECT 1"), {}).scalar_one<int>() == 1) ++queries;
        auto open = engine.pool_status().open;
        for (auto m = max_open.load(); open > m && !max_open.compare_exchange_weak(m, open);) {
        }
      }
    });
  for (auto& th : threads) th.join();
  CHECK(queries == 800);
  CHECK(max_open <= 5);
  CHECK(connects >= 1);  // overflow connections are closed on check-in, so reopening is expected
  CHECK(engine.pool_status().checked_out == 0);
}
