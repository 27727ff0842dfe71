// Pool diagnostics on the sync front: PoolTimeout names who holds the connections, the pool's
// statistics after a known sequence (and their Prometheus rendering), and leak warnings.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>
#include <corm/orm.hpp>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_db.hpp"

using namespace corm;
using namespace std::chrono_literals;

namespace {

// Collects what the engine logs (the leak warnings).
struct LogCapture {
  std::mutex mu;
  std::vector<std::string> lines;
  LogSink sink() {
    return [this](LogLevel level, std::string_view line) {
      if (level != LogLevel::warning) return;
      std::lock_guard lock(mu);
      lines.emplace_back(line);
    };
  }
  std::vector<std::string> containing(const std::string& s) {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& l : lines)
      if (l.find(s) != std::string::npos) out.push_back(l);
    return out;
  }
};

}  // namespace

TEST_CASE("PoolTimeout names each holder: label or file:line, for how long, and whether in a transaction",
          "[pool][diagnostics]") {
  EngineOptions opts;
  opts.pool.pool_size = 2;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 200ms;
  auto engine = create_engine(test::database_url(), opts);
  const int line = __LINE__ + 1;
  Connection idle_holder = engine.connect();
  Connection tx_holder = engine.connect("report job");
  (void)tx_holder.execute(text("SELECT 1"));  // opens a transaction (autobegin)
  REQUIRE(tx_holder.in_transaction());
  std::string what;
  try {
    (void)engine.connect();
    FAIL("the third checkout must time out");
  } catch (const PoolTimeout& e) {
    what = e.what();
  }
  // Longest held first; the counts the message always had stay.
  CHECK_THAT(what, Catch::Contains("2 connections checked out, 1 waiting; no connection became free within 200 ms"));
  CHECK_THAT(what, Catch::Matches(".*; held by: test_pool_diagnostics\\.cpp:" + std::to_string(line) +
                                  " for [0-9]+\\.[0-9] s, report job for [0-9]+\\.[0-9] s in a transaction\\. "
                                  "Return connections sooner.*"));
  // After a commit the holder is no longer "in a transaction".
  tx_holder.commit();
  try {
    (void)engine.connect();
    FAIL("the third checkout must time out");
  } catch (const PoolTimeout& e) {
    what = e.what();
  }
  CHECK_THAT(what, Catch::Contains(", report job for ") && !Catch::Contains("in a transaction"));
}

TEST_CASE("PoolTimeout names at most five holders, then how many more", "[pool][diagnostics]") {
  EngineOptions opts;
  opts.pool.pool_size = 7;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 100ms;
  auto engine = create_engine(test::database_url(), opts);
  std::vector<Connection> held;
  for (int i = 0; i < 7; ++i) held.push_back(engine.connect("worker " + std::to_string(i)));
  std::string what;
  try {
    (void)engine.connect();
  } catch (const PoolTimeout& e) {
    what = e.what();
  }
  CHECK_THAT(what, Catch::Matches(".*held by: worker 0 for [0-9.]+ s, worker 1 for [0-9.]+ s, worker 2 for [0-9.]+ s, "
                                  "worker 3 for [0-9.]+ s, worker 4 for [0-9.]+ s, and 2 more\\. Return.*"));
}

TEST_CASE("a session's connections are named by its label, else by where the session was made",
          "[pool][diagnostics][orm]") {
  EngineOptions opts;
  opts.pool.pool_size = 2;
  opts.pool.max_overflow = 0;
  opts.pool.pool_timeout = 100ms;
  auto engine = create_engine(test::database_url(), opts);
  const int line = __LINE__ + 1;
  Session plain(engine);
  SessionOptions named;
  named.label = "checkout handler";
  Session labelled(engine, named);
  (void)plain.execute(text("SELECT 1"));
  (void)labelled.execute(text("SELECT 1"));
  std::string what;
  try {
    (void)engine.connect();
  } catch (const PoolTimeout& e) {
    what = e.what();
  }
  CHECK_THAT(what, Catch::Contains("held by: test_pool_diagnostics.cpp:" + std::to_string(line) + " for ") &&
                       Catch::Contains(", checkout handler for "));
}

TEST_CASE("pool statistics count checkouts, waits, timeouts, opens and closes by reason", "[pool][diagnostics]") {
  EngineOptions opts;
  opts.pool.pool_size = 1;
  opts.pool.max_overflow = 1;
  opts.pool.pool_timeout = 100ms;
  auto engine = create_engine(test::database_url(), opts);
  {
    Connection a = engine.connect();
    Connection b = engine.connect();  // the overflow connection
    CHECK_THROWS_AS(engine.connect(), PoolTimeout);
    PoolStats s = engine.pool_stats();
    CHECK(s.checked_out == 2);
    CHECK(s.idle == 0);
    CHECK(s.waiting == 0);
    b.close();      // overflow, nobody waiting: closed
    a.invalidate();  // closed as invalidated
  }
  Connection c = engine.connect();  // opens a third connection
  c.close();                        // kept idle
  PoolStats s = engine.pool_stats();
  CHECK(s.checkouts == 3);
  CHECK(s.opened == 3);
  CHECK(s.connect_failed == 0);
  CHECK(s.waits == 1);
  CHECK(s.timeouts == 1);
  CHECK(s.wait_seconds_sum >= 0.1);
  std::uint64_t in_buckets = 0;
  for (auto n : s.wait_buckets) in_buckets += n;
  CHECK(in_buckets == 1);
  CHECK(s.closed_for(CloseReason::overflow) == 1);
  CHECK(s.closed_for(CloseReason::invalidated) == 1);
  CHECK(s.closed_for(CloseReason::recycled) == 0);
  CHECK(s.checked_out == 0);
  CHECK(s.idle == 1);
  CHECK(s.open == 1);

  const std::string prom = to_prometheus(s);
  CHECK_THAT(prom, Catch::Contains("# TYPE corm_pool_checkouts_total counter\ncorm_pool_checkouts_total 3\n"));
  CHECK_THAT(prom, Catch::Contains("\ncorm_pool_idle 1\n"));
  CHECK_THAT(prom, Catch::Contains("\ncorm_pool_connections_closed_total{reason=\"overflow\"} 1\n"));
  CHECK_THAT(prom, Catch::Contains("\ncorm_pool_connections_closed_total{reason=\"invalidated\"} 1\n"));
  CHECK_THAT(prom, Catch::Contains("\ncorm_pool_wait_seconds_bucket{le=\"0.001\"} 0\n"));
  CHECK_THAT(prom, Catch::Contains("\ncorm_pool_wait_seconds_bucket{le=\"+Inf\"} 1\n"));
  CHECK_THAT(prom, Catch::Contains("\ncorm_pool_wait_seconds_count 1\n"));
  CHECK_THAT(to_prometheus(s, "svc_db"), Catch::Contains("\nsvc_db_timeouts_total 1\n"));
  CHECK_THROWS_WITH(to_prometheus(s, "9 bad"), Catch::Contains("not a valid Prometheus metric name prefix"));
}

TEST_CASE("pool_recycle and pool_pre_ping closes are counted by reason", "[pool][diagnostics]") {
  EngineOptions opts;
  opts.pool.pool_size = 1;
  opts.pool.max_overflow = 0;
  opts.pool.pool_recycle = 50ms;
  auto engine = create_engine(test::database_url(), opts);
  engine.connect().close();
  std::this_thread::sleep_for(120ms);
  engine.connect().close();  // the idle one is too old: replaced
  PoolStats s = engine.pool_stats();
  CHECK(s.closed_for(CloseReason::recycled) == 1);
  CHECK(s.opened == 2);
}

TEST_CASE("a connection held past pool_leak_threshold is reported once, naming its holder", "[pool][diagnostics]") {
  LogCapture log;
  EngineOptions opts;
  opts.pool.pool_size = 3;
  opts.pool.max_overflow = 0;
  opts.pool.pool_leak_threshold = 50ms;
  opts.log = log.sink();
  auto engine = create_engine(test::database_url(), opts);
  const int line = __LINE__ + 1;
  Connection leaked = engine.connect();
  (void)leaked.execute(text("SELECT 1"));
  std::this_thread::sleep_for(150ms);
  engine.connect().close();  // the pool is used: the leak is noticed
  const std::string holder = "held by test_pool_diagnostics.cpp:" + std::to_string(line) + " for ";
  auto reports = log.containing(holder);
  REQUIRE(reports.size() == 1);
  CHECK_THAT(reports[0], Catch::Matches("pool: connection [0-9]+ checked out longer than pool_leak_threshold \\(50 ms\\): "
                                        "held by test_pool_diagnostics\\.cpp:" + std::to_string(line) +
                                        " for [0-9]+\\.[0-9] s in a transaction; return it sooner.*"));
  std::this_thread::sleep_for(150ms);
  engine.connect().close();
  CHECK(log.containing(holder).size() == 1);  // once per checkout
  CHECK(engine.pool_stats().leaks_reported == 1);
  leaked.close();
  // A short checkout is never reported.
  engine.connect().close();
  CHECK(engine.pool_stats().leaks_reported == 1);
}
