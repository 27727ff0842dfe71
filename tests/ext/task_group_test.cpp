// TransactionalTaskGroup: all tasks commit, or — when one fails — the others are cancelled and
// every session rolls back. Two-phase commit is PostgreSQL only (its crash recovery is tested in
// tests/ext_postgres).

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "corm/ext/task_group.hpp"
#include "ext/ext_db.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::ext_test;
using corm::test::ExtDb;
namespace asio = boost::asio;

namespace {

std::shared_ptr<Line> line(std::int64_t id, std::string label) {
  auto l = std::make_shared<Line>();
  l->id = id;
  l->label = std::move(label);
  return l;
}

/// Adds a line; on a server also sends it now (SQLite's single writer flushes at commit).
asio::awaitable<void> write_line(AsyncSession& s, std::int64_t id) {
  s.add(line(id, "task " + std::to_string(id)));
  if (!test::is_sqlite()) co_await s.flush();
}

}  // namespace

TEST_CASE("task group: when every task succeeds every session commits", "[ext][task_group]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    ext::TransactionalTaskGroup group(engine);
    for (std::int64_t id = 1; id <= 4; ++id) {
      auto task = [id](AsyncSession& s) -> asio::awaitable<void> { co_await write_line(s, id); };
      group.spawn(task);
    }
    co_await group.run();
    CHECK_THROWS_WITH(co_await group.run(), Catch::Contains("runs once"));
  });
  CHECK(db.rows("ext_lines") == 4);
}

TEST_CASE("task group: one failure cancels the siblings and rolls back every session", "[ext][task_group]") {
  ExtDb db;
  bool sibling_cancelled = false;
  bool sibling_finished = false;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    ext::TransactionalTaskGroup group(engine);
    auto quick = [](AsyncSession& s) -> asio::awaitable<void> { co_await write_line(s, 1); };
    auto slow = [&](AsyncSession& s) -> asio::awaitable<void> {
      co_await write_line(s, 2);
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
      try {
        co_await t.async_wait(asio::use_awaitable);
      } catch (const boost::system::system_error& e) {
        sibling_cancelled = e.code() == asio::error::operation_aborted;
        throw;
      }
      sibling_finished = true;
    };
    auto failing = [](AsyncSession& s) -> asio::awaitable<void> {
      co_await write_line(s, 3);
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
      co_await t.async_wait(asio::use_awaitable);
      throw std::runtime_error("payment declined");
    };
    group.spawn(quick);
    group.spawn(slow);
    group.spawn(failing);
    CHECK_THROWS_WITH(co_await group.run(), "payment declined");
  });
  CHECK(sibling_cancelled);
  CHECK_FALSE(sibling_finished);
  CHECK(db.rows("ext_lines") == 0);
}

TEST_CASE("task group: two-phase commit needs PostgreSQL and a bad gid prefix is refused", "[ext][task_group]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    ext::TaskGroupOptions opts;
    opts.two_phase = true;
    if (!test::is_postgres()) {  // corm's two-phase commit is PostgreSQL's PREPARE TRANSACTION
      CHECK_THROWS_WITH(ext::TransactionalTaskGroup(engine, opts), Catch::Contains("two_phase needs PostgreSQL"));
      co_return;
    }
    opts.gid_prefix = "app'; DROP TABLE x; --";
    CHECK_THROWS_WITH(ext::TransactionalTaskGroup(engine, opts), Catch::Contains("letters, digits and '_'"));
    opts.gid_prefix = "corm_ext_test";
    ext::TransactionalTaskGroup group(engine, opts);
    for (std::int64_t id = 1; id <= 3; ++id) {
      auto task = [id](AsyncSession& s) -> asio::awaitable<void> { co_await write_line(s, id); };
      group.spawn(task);
    }
    auto idle = [](AsyncSession&) -> asio::awaitable<void> { co_return; };  // nothing to prepare
    group.spawn(idle);
    co_await group.run();
  });
  if (test::is_postgres()) {
    CHECK(db.rows("ext_lines") == 3);
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    CHECK(c.exec_driver_sql("SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'corm\\_ext\\_test%'")
              .scalar_one<std::int64_t>() == 0);
  }
}

TEST_CASE("task group: a constraint failure in one task's flush rolls back the others", "[ext][task_group]") {
  if (test::is_sqlite()) return;  // SQLite flushes at commit time, one session after another
  ExtDb db;
  {
    Engine e = create_engine(db.url);
    Connection c = e.connect();
    c.execute(insert<Line>().values(Line{99, "existing"}));
    c.commit();
  }
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    ext::TransactionalTaskGroup group(engine);
    auto ok = [](AsyncSession& s) -> asio::awaitable<void> { co_await write_line(s, 1); };
    auto dup = [](AsyncSession& s) -> asio::awaitable<void> { co_await write_line(s, 99); };
    group.spawn(ok);
    group.spawn(dup);
    CHECK_THROWS_AS(co_await group.run(), IntegrityError);
  });
  CHECK(db.rows("ext_lines") == 1);
}
