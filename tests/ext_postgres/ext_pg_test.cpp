// What only PostgreSQL can show: routing against a real streaming standby (which server
// answered, by pg_is_in_recovery()), a real deadlock retried by transactional(), and two-phase
// commit of a task group surviving a process that dies between two COMMIT PREPAREDs.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "corm/ext.hpp"
#include "ext/ext_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::ext_test;
using corm::test::ExtDb;
namespace asio = boost::asio;

namespace {

/// Waits until the standby has replayed what the primary committed (the row `id` of ext_lines
/// is visible there); fails after a hard bound.
void wait_for_replica(const std::string& replica_url, std::int64_t id) {
  Engine e = create_engine(replica_url);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      Connection c = e.connect();
      std::vector<Value> p{Value(id)};
      if (c.exec_driver_sql("SELECT count(*) FROM ext_lines WHERE id = $1", p).scalar_one<std::int64_t>() == 1) return;
    } catch (const ProgrammingError&) {
      // the schema has not reached the standby yet
    }
    if (std::chrono::steady_clock::now() > deadline) FAIL("the standby did not catch up within 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

asio::awaitable<bool> answered_by_standby(AsyncSession& s) {
  Result r = co_await s.execute(select(func<bool>("pg_is_in_recovery")));
  co_return r.scalar_one<bool>();
}

std::int64_t prepared_count(const std::string& url, const std::string& prefix) {
  Engine e = create_engine(url);
  Connection c = e.connect();
  std::vector<Value> p{Value(std::string_view(prefix))};
  return c.exec_driver_sql("SELECT count(*) FROM pg_prepared_xacts WHERE starts_with(gid, $1)", p)
      .scalar_one<std::int64_t>();
}

}  // namespace

TEST_CASE("routing against a streaming standby: reads outside a writing transaction are answered by the standby",
          "[ext][routing][replica]") {
  ExtDb db;
  const std::string replica = test::schema_url(test::pg_replica_url(), db.schema);
  {
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Line>().values(Line{1, "replicated"}));
    c.commit();
  }
  wait_for_replica(replica, 1);
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine writer = create_async_engine(ex, db.url);
    AsyncEngine reader = create_async_engine(ex, replica);
    // Read-your-writes waits (bounded, far above what replay needs here) for the standby after the
    // commit below, so the read after it is the standby's.
    ext::AsyncRoutingSession rs(writer, reader, {}, ext::ReadYourWrites{std::chrono::seconds(30)});

    bool standby = co_await answered_by_standby(rs.session());
    CHECK(standby);
    auto lines = co_await rs->scalars(select<Line>());
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]->label == "replicated");

    auto l = std::make_shared<Line>();
    l->id = 2;
    l->label = "fresh";
    rs->add(l);
    co_await rs->flush();
    standby = co_await answered_by_standby(rs.session());
    CHECK_FALSE(standby);  // the transaction wrote: its reads go to the primary
    auto mine = co_await rs->scalars(select<Line>().where(col(&Line::id) == 2));
    CHECK(mine.size() == 1);  // read-your-writes (the standby cannot have it: not committed)
    co_await rs->commit();

    standby = co_await answered_by_standby(rs.session());
    CHECK(standby);
    {
      auto pin = rs.use(ext::Route::writer);
      standby = co_await answered_by_standby(rs.session());
      CHECK_FALSE(standby);
    }
    // A locking read on a standby would fail (read-only): it must have gone to the primary.
    auto locked = co_await rs->scalars(select<Line>().where(col(&Line::id) == 1).with_for_update());
    CHECK(locked.size() == 1);
    co_await rs->rollback();
    co_await rs->close();
  });
  wait_for_replica(replica, 2);  // the commit reached the standby too
}

TEST_CASE("transactional retry: a real deadlock re-runs the losing unit of work with a fresh session",
          "[ext][transactional][deadlock]") {
  ExtDb db;
  {
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Account>().values(Account{1, "ann", 100}));
    c.execute(insert<Account>().values(Account{2, "bob", 100}));
    c.commit();
  }
  int attempts = 0;
  int deadlocks = 0;
  int credits = 0;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    int first_locks = 0;
    ext::TxOptions opts;
    opts.retry = ext::RetryPolicy::on_conflict(3);
    opts.retry.on_retry = [&](int, const Error& e) {
      if (dynamic_cast<const DeadlockDetected*>(&e)) ++deadlocks;
    };
    auto transfer = [&](std::int64_t from, std::int64_t to, std::int64_t amount) {
      return [&, from, to, amount, first_attempt = true](AsyncSession& s) mutable -> asio::awaitable<void> {
        ++attempts;
        // The re-run starts once the winner's credit went through (it then holds both rows until
        // it commits). The backoff may be 0 ms, and a re-run that early could take its first row
        // back before the winner's woken UPDATE did and deadlock a second time (seen once, under
        // load).
        while (!first_attempt && credits < 1) {
          asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(2));
          co_await t.async_wait(asio::use_awaitable);
        }
        auto debit = update<Account>().set(&Account::balance, col(&Account::balance) - amount).where(col(&Account::id) == from);
        co_await s.execute(debit);
        if (first_attempt) {  // both hold their first row before either asks for the second
          first_attempt = false;
          ++first_locks;
          while (first_locks < 2) {
            asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(2));
            co_await t.async_wait(asio::use_awaitable);
          }
        }
        auto credit = update<Account>().set(&Account::balance, col(&Account::balance) + amount).where(col(&Account::id) == to);
        co_await s.execute(credit);
        ++credits;
      };
    };
    auto a_to_b = transfer(1, 2, 10);
    auto b_to_a = transfer(2, 1, 3);
    auto one = [&]() -> asio::awaitable<void> { co_await ext::transactional(engine, a_to_b, opts); };
    auto two = [&]() -> asio::awaitable<void> { co_await ext::transactional(engine, b_to_a, opts); };
    int done = 0;
    auto finished = [&](std::exception_ptr e) {
      ++done;
      if (e) std::rethrow_exception(e);
    };
    asio::co_spawn(ex, one(), finished);
    asio::co_spawn(ex, two(), finished);
    while (done < 2) {
      asio::steady_timer t(ex, std::chrono::milliseconds(5));
      co_await t.async_wait(asio::use_awaitable);
    }
  });
  CHECK(deadlocks == 1);
  CHECK(attempts == 3);  // two units of work, the deadlock victim ran twice
  Engine e = create_engine(db.url);
  Connection c = e.connect();
  auto balances = c.exec_driver_sql("SELECT balance FROM ext_accounts ORDER BY id").scalars<std::int64_t>();
  CHECK(balances == std::vector<std::int64_t>{93, 107});
}

TEST_CASE("two-phase task group: a process dying between two COMMIT PREPAREDs is finished by recovery",
          "[ext][task_group][2pc]") {
  ExtDb db;
  const std::string prefix = "crash" + std::to_string(::getpid());
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The coordinator process: prepares both, commits the first, dies.
    try {
      asio::io_context io;
      AsyncEngine engine = create_async_engine(io.get_executor(), db.url);
      ext::TaskGroupOptions opts;
      opts.two_phase = true;
      opts.gid_prefix = prefix;
      opts.after_commit_prepared = [](std::size_t i) {
        if (i == 0) ::_exit(0);  // no destructors, no rollbacks: a crash
      };
      ext::TransactionalTaskGroup group(engine, opts);
      for (std::int64_t id = 1; id <= 2; ++id) {
        auto task = [id](AsyncSession& s) -> asio::awaitable<void> {
          auto l = std::make_shared<Line>();
          l->id = id;
          l->label = "2pc";
          s.add(l);
          co_return;
        };
        group.spawn(task);
      }
      asio::co_spawn(io, group.run(), [](std::exception_ptr e) {
        if (e) ::_exit(2);
      });
      io.run();
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(4);  // the group finished: the hook did not run
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  CHECK(db.rows("ext_lines") == 1);                       // the first participant committed
  CHECK(prepared_count(db.url, prefix + "_") == 1);       // the second is still prepared
  ext::RecoveryReport report = ext::recover_prepared_transactions(create_engine(db.url), prefix);
  CHECK(report.committed.size() == 1);
  CHECK(report.rolled_back.empty());
  CHECK(db.rows("ext_lines") == 2);
  CHECK(prepared_count(db.url, prefix + "_") == 0);
}

TEST_CASE("two-phase recovery rolls back a group that died before all its transactions were prepared",
          "[ext][task_group][2pc]") {
  ExtDb db;
  const std::string prefix = "partial" + std::to_string(::getpid());
  {
    // Participant 0 of 2 prepared, participant 1 never: the coordinator died while preparing.
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Line>().values(Line{10, "half"}));
    c.exec_driver_sql("PREPARE TRANSACTION '" + ext::detail::make_gid(prefix, "0123456789abcdef", 0, 2) + "'");
    c.rollback();
  }
  CHECK(prepared_count(db.url, prefix + "_") == 1);
  ext::RecoveryReport report = ext::recover_prepared_transactions(create_engine(db.url), prefix);
  CHECK(report.rolled_back.size() == 1);
  CHECK(report.committed.empty());
  CHECK(db.rows("ext_lines") == 0);
  CHECK(prepared_count(db.url, prefix + "_") == 0);
  CHECK_THROWS_WITH(ext::recover_prepared_transactions(create_engine(db.url), "bad-prefix"),
                    Catch::Contains("letters, digits and '_'"));
}
