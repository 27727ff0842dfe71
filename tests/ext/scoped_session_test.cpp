// Scoped sessions: one session per scope, created on first use, removed when the scope ends —
// normally, by an exception, by cancellation — and 100,000 scopes leave nothing behind.

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <unistd.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "corm/ext/scoped_session.hpp"
#include "corm/ext/async_scoped_session.hpp"
#include "ext/ext_db.hpp"
#include "support/sanitizer.hpp"
#include "support/async_test.hpp"

using namespace corm;
using namespace corm::ext_test;
using corm::test::ExtDb;
namespace asio = boost::asio;

namespace {

/// Resident set size in pages (/proc/self/statm, second field).
long resident_pages() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident;
}

}  // namespace

TEST_CASE("scoped sessions: one lazily created session per scope, shared inside it, removed at its end",
          "[ext][scoped]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    ext::AsyncScopedSessions sessions(engine);
    auto request = [&](ext::AsyncScopedSessions::Scope& scope) -> asio::awaitable<int> {
      CHECK(sessions.size() == 0);  // nothing until first use
      CHECK_FALSE(scope.has_session());
      AsyncSession& a = scope.session();
      AsyncSession& b = scope.session();
      CHECK(&a == &b);
      CHECK(sessions.size() == 1);
      CHECK(sessions.find(scope.id()) == &a);
      auto l = std::make_shared<Line>();
      l->id = 1;
      l->label = "scoped";
      a.add(l);
      co_await a.commit();
      co_return 42;
    };
    int r = co_await sessions.scoped(request);
    CHECK(r == 42);
    CHECK(sessions.size() == 0);

    auto unused = [](ext::AsyncScopedSessions::Scope&) -> asio::awaitable<void> { co_return; };
    co_await sessions.scoped(unused);
    CHECK(sessions.size() == 0);
  });
  CHECK(db.rows("ext_lines") == 1);
}

TEST_CASE("scoped sessions: an exception or a cancellation ends the scope and rolls back its session",
          "[ext][scoped]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    ext::AsyncScopedSessions sessions(engine);
    auto throws = [&](ext::AsyncScopedSessions::Scope& scope) -> asio::awaitable<void> {
      auto l = std::make_shared<Line>();
      l->id = 1;
      l->label = "never committed";
      scope.session().add(l);
      co_await scope.session().flush();
      throw std::runtime_error("handler failed");
    };
    CHECK_THROWS_WITH(co_await sessions.scoped(throws), "handler failed");
    CHECK(sessions.size() == 0);

    bool reached_end = false;
    auto slow = [&](ext::AsyncScopedSessions::Scope& scope) -> asio::awaitable<void> {
      auto l = std::make_shared<Line>();
      l->id = 2;
      l->label = "cancelled";
      scope.session().add(l);
      co_await scope.session().flush();
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
      co_await t.async_wait(asio::use_awaitable);
      reached_end = true;
    };
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer deadline(ex, std::chrono::milliseconds(50));
    auto scoped_op = sessions.scoped(slow);
    auto timeout = deadline.async_wait(asio::use_awaitable);
    auto winner = co_await (std::move(scoped_op) || std::move(timeout));
    CHECK(winner.index() == 1);  // the deadline won: the scope was cancelled
    CHECK_FALSE(reached_end);
    CHECK(sessions.size() == 0);
  });
  CHECK(db.rows("ext_lines") == 0);
}

TEST_CASE("scoped sessions: after 100,000 scopes the registry is empty and memory is flat", "[ext][scoped][leak]") {
  ExtDb db;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, db.url);
    ext::AsyncScopedSessions sessions(engine);
    auto l = std::make_shared<Line>();
    l->id = 1;
    l->label = "x";
    {
      AsyncSession s(engine);
      s.add(l);
      co_await s.commit();
      co_await s.close();
    }
    std::size_t peak = 0;
    auto request = [&](ext::AsyncScopedSessions::Scope& scope) -> asio::awaitable<void> {
      auto got = co_await scope.session().get<Line>(std::int64_t{1});
      if (!got) throw std::logic_error("row 1 missing");
      peak = std::max(peak, sessions.size());
    };
    const int warmup = 10'000, total = 100'000;
    long before = 0;
    for (int i = 0; i < total; ++i) {
      if (i == warmup) before = resident_pages();
      co_await sessions.scoped(request);
    }
    long after = resident_pages();
    CHECK(sessions.size() == 0);
    CHECK(peak == 1);
    // A session leaked per scope would cost far more than 4 MiB over 90,000 scopes.
    const long page_kib = ::sysconf(_SC_PAGESIZE) / 1024;
    INFO("RSS before " << before * page_kib << " KiB, after " << after * page_kib << " KiB");
    if (!test::memory_is_instrumented) CHECK((after - before) * page_kib < 4096);
  });
}

TEST_CASE("scoped sessions (sync): the scope's session is closed when the scope ends", "[ext][scoped]") {
  ExtDb db;
  Engine engine = create_engine(db.url);
  ext::SyncScopedSessions sessions(engine);
  CHECK_THROWS_AS(sessions.scoped([&](ext::SyncScopedSessions::Scope& scope) {
    auto l = std::make_shared<Line>();
    l->id = 1;
    l->label = "rolled back";
    scope.session().add(l);
    scope.session().flush();
    throw std::runtime_error("boom");
  }),
                  std::runtime_error);
  CHECK(sessions.size() == 0);
  int n = sessions.scoped([&](ext::SyncScopedSessions::Scope& scope) {
    auto l = std::make_shared<Line>();
    l->id = 2;
    l->label = "kept";
    scope.session().add(l);
    scope.session().commit();
    return static_cast<int>(sessions.size());
  });
  CHECK(n == 1);
  CHECK(sessions.size() == 0);
  CHECK(db.rows("ext_lines") == 1);
}
