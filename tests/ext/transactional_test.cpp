// transactional(): commit / rollback, propagation REQUIRED / REQUIRES_NEW / NESTED, read-only
// sharing, and the retry policy (bounded, never for non-retryable errors) — both fronts.

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "corm/ext/transactional.hpp"
#include "corm/ext/async_transactional.hpp"
#include "corm/orm/detail/session_access.hpp"
#include "ext/ext_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::ext_test;
using corm::test::ExtDb;
using corm::test::Queries;
namespace asio = boost::asio;

namespace {

std::shared_ptr<Line> line(std::int64_t id, std::string label) {
  auto l = std::make_shared<Line>();
  l->id = id;
  l->label = std::move(label);
  return l;
}

struct BusinessRuleBroken : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

TEST_CASE("transactional: commits what the work did, rolls back and rethrows when it throws", "[ext][transactional]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    auto ok = [](AsyncSession& s) -> asio::awaitable<std::int64_t> {
      s.add(line(1, "kept"));
      co_return 1;
    };
    std::int64_t id = co_await ext::transactional(engine, ok);
    CHECK(id == 1);
    auto bad = [](AsyncSession& s) -> asio::awaitable<void> {
      s.add(line(2, "dropped"));
      co_await s.flush();
      throw BusinessRuleBroken("insufficient funds");
    };
    bool thrown = false;
    try {
      co_await ext::transactional(engine, bad);
    } catch (const BusinessRuleBroken& e) {
      thrown = std::string(e.what()) == "insufficient funds";
    }
    CHECK(thrown);
  });
  CHECK(db.rows("ext_lines") == 1);
}

TEST_CASE("transactional: REQUIRED joins the current session, NESTED rolls back only its savepoint, REQUIRES_NEW "
          "commits on its own",
          "[ext][transactional]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    auto outer = [&](AsyncSession& s) -> asio::awaitable<void> {
      // REQUIRES_NEW first (on SQLite a second writer must not wait for this one's lock).
      auto audit = [](AsyncSession& inner) -> asio::awaitable<void> {
        inner.add(line(100, "audit"));
        co_return;
      };
      ext::TxOptions new_tx;
      new_tx.propagation = ext::Propagation::requires_new;
      co_await ext::transactional(engine, s, audit, new_tx);

      s.add(line(1, "outer"));
      AsyncSession* seen = nullptr;
      auto joined = [&](AsyncSession& inner) -> asio::awaitable<void> {
        seen = &inner;
        inner.add(line(2, "joined"));
        co_return;
      };
      co_await ext::transactional(engine, s, joined);
      CHECK(seen == &s);

      auto failing = [](AsyncSession& inner) -> asio::awaitable<void> {
        inner.add(line(3, "nested"));
        co_await inner.flush();
        throw BusinessRuleBroken("nested step failed");
      };
      ext::TxOptions nested;
      nested.propagation = ext::Propagation::nested;
      bool caught = false;
      try {
        co_await ext::transactional(engine, s, failing, nested);
      } catch (const BusinessRuleBroken&) {
        caught = true;
      }
      CHECK(caught);
      s.add(line(4, "after"));
    };
    co_await ext::transactional(engine, outer);

    // The outer unit fails after REQUIRES_NEW committed: the audit line stays.
    auto outer_fails = [&](AsyncSession& s) -> asio::awaitable<void> {
      auto audit = [](AsyncSession& inner) -> asio::awaitable<void> {
        inner.add(line(101, "audit of a failed unit"));
        co_return;
      };
      ext::TxOptions new_tx;
      new_tx.propagation = ext::Propagation::requires_new;
      co_await ext::transactional(engine, s, audit, new_tx);
      s.add(line(5, "lost"));
      co_await s.flush();
      throw BusinessRuleBroken("outer failed");
    };
    CHECK_THROWS_AS(co_await ext::transactional(engine, outer_fails), BusinessRuleBroken);
  });
  Engine e = create_engine(db.url);
  Connection c = e.connect();
  auto ids = c.exec_driver_sql("SELECT id FROM ext_lines ORDER BY id").scalars<std::int64_t>();
  CHECK(ids == std::vector<std::int64_t>{1, 2, 4, 100, 101});
}

TEST_CASE("transactional: read-only calls joined with REQUIRED share one session (identity-map hits) and roll back",
          "[ext][transactional]") {
  ExtDb db;
  {
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Line>().values(Line{7, "seven"}));
    c.commit();
  }
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    Queries q(engine);
    ext::TxOptions ro;
    ro.read_only = true;
    auto report = [&](AsyncSession& s) -> asio::awaitable<int> {
      auto first = [](AsyncSession& inner) -> asio::awaitable<std::string> {
        auto l = co_await inner.get<Line>(std::int64_t{7});
        l->label = "changed in a read-only transaction";  // never flushed
        co_return l->label;
      };
      auto second = [](AsyncSession& inner) -> asio::awaitable<std::string> {
        auto l = co_await inner.get<Line>(std::int64_t{7});
        co_return l->label;
      };
      (void)co_await ext::transactional(engine, s, first, ro);
      (void)co_await ext::transactional(engine, s, second, ro);
      auto writer = [](AsyncSession& inner) -> asio::awaitable<void> {
        inner.add(line(8, "x"));
        co_return;
      };
      try {
        co_await ext::transactional(engine, s, writer);  // read-write REQUIRED into read-only
        FAIL("expected UsageError");
      } catch (const UsageError& e) {
        CHECK_THAT(e.what(), Catch::Contains("read-only") && Catch::Contains("requires_new"));
      }
      co_return q.take();
    };
    int queries = co_await ext::transactional(engine, report, ro);
    CHECK(queries == 1);  // the second get() was answered by the shared identity map
  });
  Engine e = create_engine(db.url);
  Connection c = e.connect();
  CHECK(c.exec_driver_sql("SELECT label FROM ext_lines WHERE id = 7").scalar_one<std::string>() == "seven");
  CHECK(db.rows("ext_lines") == 1);
}

TEST_CASE("transactional: retries deadlocks with a fresh session up to max_attempts, other errors propagate at once",
          "[ext][transactional][retry]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    int attempts = 0;
    int retries_seen = 0;
    ext::TxOptions opts;
    opts.retry = ext::RetryPolicy::on_conflict(4);
    opts.retry.base_delay = std::chrono::milliseconds(1);
    opts.retry.on_retry = [&](int, const Error& e) {
      ++retries_seen;
      CHECK_THAT(e.what(), Catch::Contains("(simulated)"));
    };
    auto flaky = [&](AsyncSession& s) -> asio::awaitable<int> {
      ++attempts;
      CHECK(corm::detail::SessionAccess::core(s).tracked().empty());  // a fresh session: nothing of the failed attempt
      s.add(line(attempts, "attempt " + std::to_string(attempts)));
      co_await s.flush();
      if (attempts < 3) throw DeadlockDetected("deadlock detected (simulated)");
      co_return attempts;
    };
    int done = co_await ext::transactional(engine, flaky, opts);
    CHECK(done == 3);
    CHECK(retries_seen == 2);

    attempts = 0;
    auto always = [&](AsyncSession&) -> asio::awaitable<void> {
      ++attempts;
      throw SerializationFailure("could not serialize access (simulated)");
      co_return;
    };
    CHECK_THROWS_AS(co_await ext::transactional(engine, always, opts), SerializationFailure);
    CHECK(attempts == 4);

    attempts = 0;
    auto broken = [&](AsyncSession&) -> asio::awaitable<void> {
      ++attempts;
      throw IntegrityError("duplicate key (simulated)", IntegrityKind::unique);
      co_return;
    };
    CHECK_THROWS_AS(co_await ext::transactional(engine, broken, opts), IntegrityError);
    CHECK(attempts == 1);

    attempts = 0;
    auto unknown = [&](AsyncSession&) -> asio::awaitable<void> {
      ++attempts;
      throw CommitOutcomeUnknown("connection lost during COMMIT (simulated)");
      co_return;
    };
    CHECK_THROWS_AS(co_await ext::transactional(engine, unknown, opts), CommitOutcomeUnknown);
    CHECK(attempts == 1);
  });
  Engine e = create_engine(db.url);
  Connection c = e.connect();
  CHECK(c.exec_driver_sql("SELECT label FROM ext_lines").scalars<std::string>() ==
        std::vector<std::string>{"attempt 3"});
}

TEST_CASE("transactional (sync): propagation and retry on the Session front", "[ext][transactional]") {
  ExtDb db;
  Engine engine = create_engine(db.url);
  int attempts = 0;
  ext::TxOptions opts;
  opts.retry = ext::RetryPolicy::on_conflict(3);
  opts.retry.base_delay = std::chrono::milliseconds(1);
  int n = ext::transactional(
      engine,
      [&](Session& s) {
        ++attempts;
        s.add(line(attempts, "sync"));
        s.flush();
        if (attempts == 1) throw DeadlockDetected("deadlock detected (simulated)");
        ext::TxOptions nested;
        nested.propagation = ext::Propagation::nested;
        try {
          ext::transactional(
              engine, s,
              [](Session& inner) {
                inner.add(line(50, "nested"));
                inner.flush();
                throw BusinessRuleBroken("no");
              },
              nested);
        } catch (const BusinessRuleBroken&) {
        }
        return attempts;
      },
      opts);
  CHECK(n == 2);
  Connection c = engine.connect();
  CHECK(c.exec_driver_sql("SELECT id FROM ext_lines").scalars<std::int64_t>() == std::vector<std::int64_t>{2});
}

TEST_CASE("retry policy: jittered backoff stays within the exponential cap and max_attempts < 1 is refused",
          "[ext][transactional][retry]") {
  ext::RetryPolicy p = ext::RetryPolicy::on_conflict(5);
  p.base_delay = std::chrono::milliseconds(10);
  p.max_delay = std::chrono::milliseconds(50);
  for (int i = 0; i < 200; ++i) {
    CHECK(p.backoff(1) <= std::chrono::milliseconds(10));
    CHECK(p.backoff(2) <= std::chrono::milliseconds(20));
    CHECK(p.backoff(9) <= std::chrono::milliseconds(50));
  }
  ext::RetryPolicy bad;
  bad.max_attempts = 0;
  auto err = std::make_exception_ptr(DeadlockDetected("x"));
  CHECK_THROWS_WITH(bad.should_retry(err, 1), Catch::Contains("max_attempts must be at least 1"));
  CHECK(ext::RetryPolicy::is_retryable(err));
  CHECK_FALSE(ext::RetryPolicy::is_retryable(std::make_exception_ptr(CommitOutcomeUnknown("x"))));
}

TEST_CASE("retry policy: on_failover retries lost connections and failed connects, never an unknown commit, and "
          "stops after max_total_wait",
          "[ext][transactional][retry]") {
  const auto lost = std::make_exception_ptr(ConnectionLost("lost"));
  const auto read_only = std::make_exception_ptr(ReadOnlyServer("demoted"));
  const auto no_server = std::make_exception_ptr(ConnectError("refused"));
  const auto unknown = std::make_exception_ptr(CommitOutcomeUnknown("maybe"));
  const auto deadlock = std::make_exception_ptr(DeadlockDetected("x"));
  const auto other = std::make_exception_ptr(IntegrityError("dup", IntegrityKind::unique));

  // A conflict policy leaves lost connections alone.
  const auto conflict = ext::RetryPolicy::on_conflict(5);
  CHECK(conflict.should_retry(lost, 1) == nullptr);
  CHECK(conflict.should_retry(no_server, 1) == nullptr);
  CHECK(conflict.should_retry(deadlock, 1) != nullptr);

  auto p = ext::RetryPolicy::on_failover(std::chrono::seconds(30));
  CHECK(p.retry_connection_lost);
  CHECK(p.max_total_wait == std::chrono::seconds(30));
  const Error* retried = p.should_retry(lost, 1);
  REQUIRE(retried != nullptr);
  CHECK(std::string(retried->what()) == "lost");
  CHECK(p.should_retry(read_only, 2) != nullptr);
  CHECK(p.should_retry(no_server, 3) != nullptr);
  CHECK(p.should_retry(deadlock, 4) != nullptr);
  CHECK(p.should_retry(unknown, 1) == nullptr);
  CHECK(p.should_retry(other, 1) == nullptr);

  // The clock starts at attempt 1's failure; past max_total_wait nothing is retried any more.
  CHECK(p.should_retry(lost, 1) != nullptr);
  p.first_failure_at -= std::chrono::seconds(31);
  CHECK(p.should_retry(lost, 2) == nullptr);
  CHECK(p.should_retry(lost, 1) != nullptr);  // a new unit starts a new clock

  ext::RetryPolicy negative = ext::RetryPolicy::on_failover();
  negative.max_total_wait = std::chrono::milliseconds(-1);
  CHECK_THROWS_WITH(negative.should_retry(lost, 1), Catch::Contains("max_total_wait must not be negative"));
}
