// PoolCore is plain bookkeeping: these tests drive it step by step with fake connections and no
// I/O, the way both fronts drive it.
#include <catch2/catch.hpp>

#include <corm/pool/detail/pool_core.hpp>

using namespace corm;
using namespace std::chrono_literals;

namespace {

class FakeConnection final : public driver::Connection {
 public:
  bool broken = false;
  Dialect dialect() const noexcept override { return Dialect::sqlite; }
  std::shared_ptr<const ResultSet> execute(std::string_view, std::span<const Value>) override { return nullptr; }
  void execute_script(std::string_view) override {}
  bool ping() noexcept override { return !broken; }
  bool is_broken() const noexcept override { return broken; }
  bool in_transaction() const noexcept override { return false; }
  int backend_pid() const noexcept override { return 0; }
  void close() noexcept override {}
};

using Closed = std::vector<std::unique_ptr<PooledConnection>>;
using Woken = std::vector<PoolCore::WaiterId>;

std::unique_ptr<PooledConnection> open(PoolCore& core, Grant g, PoolCore::Clock::time_point now = PoolCore::Clock::now()) {
  if (g.idle) return std::move(g.idle);
  auto c = std::make_unique<PooledConnection>();
  c->conn = std::make_unique<FakeConnection>();
  c->created = now;
  c->id = core.opened();
  return c;
}

PoolOptions options(std::size_t size, std::size_t overflow) {
  PoolOptions o;
  o.pool_size = size;
  o.max_overflow = overflow;
  return o;
}

}  // namespace

TEST_CASE("pool core grants up to size + overflow, then asks the caller to wait", "[pool]") {
  PoolCore core(options(2, 1));
  Closed closed;
  auto now = PoolCore::Clock::now();
  std::vector<std::unique_ptr<PooledConnection>> held;
  for (int i = 0; i < 3; ++i) {
    auto g = core.try_acquire(now, closed);
    REQUIRE(g.has_value());
    CHECK(g->idle == nullptr);  // permission to open
    held.push_back(open(core, std::move(*g)));
  }
  CHECK_FALSE(core.try_acquire(now, closed).has_value());
  auto s = core.status();
  CHECK(s.open == 3);
  CHECK(s.checked_out == 3);
  CHECK(s.overflow == 1);
  CHECK_THAT(core.timeout_message(PoolCore::Clock::now()), Catch::Contains("size 2 overflow 1") && Catch::Contains("3 connections checked out"));
}

TEST_CASE("pool core closes the overflow connection on check-in and keeps pool_size", "[pool]") {
  PoolCore core(options(1, 1));
  Closed closed;
  Woken woken;
  auto now = PoolCore::Clock::now();
  auto a = open(core, *core.try_acquire(now, closed));
  auto b = open(core, *core.try_acquire(now, closed));
  core.release(std::move(a), false, now, woken, closed);
  CHECK(closed.size() == 1);  // beyond pool_size: closed
  core.release(std::move(b), false, now, woken, closed);
  CHECK(closed.size() == 1);  // within pool_size: kept
  CHECK(core.status().idle == 1);
  CHECK(core.status().open == 1);
}

TEST_CASE("pool core serves waiters first-in first-out", "[pool]") {
  PoolCore core(options(1, 0));
  Closed closed;
  Woken woken;
  auto now = PoolCore::Clock::now();
  auto c = open(core, *core.try_acquire(now, closed));
  auto w1 = core.enqueue_waiter();
  auto w2 = core.enqueue_waiter();
  auto w3 = core.enqueue_waiter();
  CHECK(core.status().waiters == 3);
  core.release(std::move(c), false, now, woken, closed);
  REQUIRE(woken == Woken{w1});
  CHECK_FALSE(core.take_grant(w2).has_value());
  auto g1 = core.take_grant(w1);
  REQUIRE(g1.has_value());
  REQUIRE(g1->idle != nullptr);  // the very connection that came back
  // A newcomer cannot jump the queue even when a connection is idle.
  core.release(std::move(g1->idle), false, now, woken, closed);
  CHECK(woken == Woken{w1, w2});
  CHECK_FALSE(core.try_acquire(now, closed).has_value());
  (void)w3;
}

TEST_CASE("take_ready_idle hands out only an idle connection that needs nothing asynchronous", "[pool]") {
  Closed closed;
  Woken woken;
  auto now = PoolCore::Clock::now();

  SECTION("an idle connection, no waiters: handed out and counted as checked out") {
    PoolCore core(options(1, 0));
    CHECK(core.take_ready_idle(now) == nullptr);  // nothing open yet: opening is asynchronous
    CHECK(core.status().open == 0);
    auto c = open(core, *core.try_acquire(now, closed));
    const auto id = c->id;
    core.release(std::move(c), false, now, woken, closed);
    auto again = core.take_ready_idle(now);
    REQUIRE(again != nullptr);
    CHECK(again->id == id);
    CHECK(core.status().idle == 0);
    CHECK(core.status().checked_out == 1);
  }
  SECTION("a queued waiter keeps its turn") {
    PoolCore core(options(2, 0));
    auto a = open(core, *core.try_acquire(now, closed));
    auto b = open(core, *core.try_acquire(now, closed));
    core.release(std::move(a), false, now, woken, closed);
    auto w = core.enqueue_waiter();
    CHECK(core.take_ready_idle(now) == nullptr);
    CHECK(core.status().idle == 1);
    CHECK(core.status().waiters == 1);
    (void)w;
    (void)b;
  }
  SECTION("pool_pre_ping: the ping is a round trip, so the caller must go through checkout") {
    PoolOptions o = options(1, 0);
    o.pool_pre_ping = true;
    PoolCore core(o);
    core.release(open(core, *core.try_acquire(now, closed)), false, now, woken, closed);
    CHECK(core.take_ready_idle(now) == nullptr);
    CHECK(core.status().idle == 1);
  }
  SECTION("a connection due for recycling stays for try_acquire to close") {
    PoolOptions o = options(1, 0);
    o.pool_recycle = 10s;
    PoolCore core(o);
    core.release(open(core, *core.try_acquire(now, closed), now), false, now, woken, closed);
    CHECK(core.take_ready_idle(now + 5s) != nullptr);
    PoolCore old(o);
    old.release(open(old, *old.try_acquire(now, closed), now), false, now, woken, closed);
    CHECK(old.take_ready_idle(now + 11s) == nullptr);
    CHECK(old.status().idle == 1);
    CHECK(closed.empty());
  }
}

TEST_CASE("a waiter cancelled after its grant passes the connection on, losing nothing", "[pool]") {
  PoolCore core(options(1, 0));
  Closed closed;
  Woken woken;
  auto now = PoolCore::Clock::now();
  auto c = open(core, *core.try_acquire(now, closed));
  auto w1 = core.enqueue_waiter();
  auto w2 = core.enqueue_waiter();
  core.release(std::move(c), false, now, woken, closed);
  REQUIRE(woken == Woken{w1});
  woken.clear();
  core.cancel_waiter(w1, woken, closed);  // the race: granted at the instant it gave up
  CHECK(woken == Woken{w2});
  CHECK(core.take_grant(w2).has_value());
  CHECK(core.status().waiters == 0);
  CHECK(closed.empty());
}

TEST_CASE("a failed open frees the slot for the next waiter", "[pool]") {
  PoolCore core(options(1, 0));
  Closed closed;
  Woken woken;
  auto now = PoolCore::Clock::now();
  REQUIRE(core.try_acquire(now, closed).has_value());  // permission to open...
  auto w = core.enqueue_waiter();
  core.open_failed(woken);  // ...which failed
  CHECK(woken == Woken{w});
  auto g = core.take_grant(w);
  REQUIRE(g.has_value());
  CHECK(g->idle == nullptr);  // the waiter may try to open one itself
  CHECK(core.status().open == 1);
}

TEST_CASE("expired connections are recycled at checkout and broken ones discarded at check-in", "[pool]") {
  auto o = options(2, 0);
  o.pool_recycle = 100ms;
  PoolCore core(o);
  Closed closed;
  Woken woken;
  auto t0 = PoolCore::Clock::now();
  auto a = open(core, *core.try_acquire(t0, closed), t0);
  auto b = open(core, *core.try_acquire(t0, closed), t0);
  static_cast<FakeConnection&>(*b->conn).broken = true;
  core.release(std::move(a), false, t0, woken, closed);
  core.release(std::move(b), false, t0, woken, closed);
  CHECK(closed.size() == 1);  // the broken one
  CHECK(core.status().idle == 1);
  auto g = core.try_acquire(t0 + 200ms, closed);
  REQUIRE(g.has_value());
  CHECK(g->idle == nullptr);  // too old: replaced by a new one
  CHECK(closed.size() == 2);
  CHECK(core.status().open == 1);
}

TEST_CASE("pre-ping is requested for idle connections only when enabled", "[pool]") {
  auto o = options(1, 0);
  o.pool_pre_ping = true;
  PoolCore core(o);
  Closed closed;
  Woken woken;
  auto now = PoolCore::Clock::now();
  auto g = core.try_acquire(now, closed);
  CHECK_FALSE(g->needs_ping);  // brand new: nothing to ping
  core.release(open(core, std::move(*g)), false, now, woken, closed);
  auto again = core.try_acquire(now, closed);
  REQUIRE(again->idle != nullptr);
  CHECK(again->needs_ping);
}

TEST_CASE("the single-connection pool never opens a second connection", "[pool]") {
  auto o = options(5, 5);
  o.kind = PoolKind::single;
  PoolCore core(o);
  Closed closed;
  auto now = PoolCore::Clock::now();
  auto c = open(core, *core.try_acquire(now, closed));
  CHECK_FALSE(core.try_acquire(now, closed).has_value());
  CHECK(core.capacity() == 1);
}
