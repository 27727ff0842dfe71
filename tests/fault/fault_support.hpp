#pragma once
// Fixtures of the reliability suite: a wall-clock watchdog (a hang is a failure), a
// database per test (a fresh PostgreSQL database — reachable directly and through PgBouncer — or
// a fresh SQLite file), a throwaway PostgreSQL cluster for tests that stop the server, and the
// observers the tests assert on: pg_stat_activity by application_name, /proc/self/fd, RSS.

#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>
#include <corm/corm.hpp>
#include <corm/orm/async_session.hpp>
#include <corm/orm/session.hpp>
#include <corm/sql.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/async_test.hpp"
#include "support/pg_cluster.hpp"
#include "support/test_db.hpp"

namespace corm::fault {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
// A using-declaration, not a using-directive: corm's own operator|| (SQL predicates) would hide
// the awaitable one from a directive.
using boost::asio::experimental::awaitable_operators::operator||;

// --- models --------------------------------------------------------------------------------

struct FCounter {
  std::int64_t id{};
  std::int64_t value{};
};

struct FDoc {
  std::int64_t id{};
  std::string body;
  std::int32_t version{};
};

struct FItem {
  std::int64_t id{};
  std::string name;
  std::int64_t n{};
};

// Mapped onto a table whose columns are nullable, while these members are not optional.
struct FStrict {
  std::int64_t id{};
  std::int64_t qty{};
  std::string label;
};

// Mapped onto a table whose `qty` is NOT NULL, while the member is optional.
struct FLoose {
  std::int64_t id{};
  std::optional<std::int64_t> qty;
};

}  // namespace corm::fault

template <>
struct corm::Model<corm::fault::FCounter> {
  using C = corm::fault::FCounter;
  static constexpr auto table = corm::table("fault_counters", corm::column("id", &C::id, corm::primary_key),
                                            corm::column("value", &C::value));
};
template <>
struct corm::Model<corm::fault::FDoc> {
  using D = corm::fault::FDoc;
  static constexpr auto table = corm::table("fault_docs", corm::column("id", &D::id, corm::primary_key),
                                            corm::column("body", &D::body),
                                            corm::column("version", &D::version, corm::version_counter));
};
template <>
struct corm::Model<corm::fault::FItem> {
  using I = corm::fault::FItem;
  static constexpr auto table = corm::table("fault_items", corm::column("id", &I::id, corm::primary_key),
                                            corm::column("name", &I::name), corm::column("n", &I::n));
};
template <>
struct corm::Model<corm::fault::FStrict> {
  using S = corm::fault::FStrict;
  static constexpr auto table = corm::table("fault_strict", corm::column("id", &S::id, corm::primary_key),
                                            corm::column("qty", &S::qty), corm::column("label", &S::label));
};
template <>
struct corm::Model<corm::fault::FLoose> {
  using L = corm::fault::FLoose;
  static constexpr auto table =
      corm::table("fault_loose", corm::column("id", &L::id, corm::primary_key), corm::column("qty", &L::qty));
};

namespace corm::fault {

// --- a hang is a failure ---------------------------------------------------------------------

/// Ends the process with a failure when it is still alive `bound` after construction: a test
/// that hangs fails fast with a message instead of waiting for ctest's timeout. (Each Catch test
/// case runs in its own process under ctest, so exiting is scoped to the case.)
class Watchdog {
 public:
  Watchdog(std::chrono::milliseconds bound, std::string what) : what_(std::move(what)) {
    thread_ = std::thread([this, bound] {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, bound, [this] { return done_; })) {
        std::fprintf(stderr, "\nFAULT WATCHDOG: '%s' exceeded its wall-clock bound of %lld ms — a hang is a failure\n",
                     what_.c_str(), static_cast<long long>(bound.count()));
        std::fflush(stderr);
        std::_Exit(3);
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

/// Runs a coroutine to completion on a fresh io_context under a watchdog.
template <class F>
void run_bounded(std::chrono::milliseconds bound, F&& f) {
  Watchdog w(bound, Catch::getResultCapture().getCurrentTestName());
  test::run_async(std::forward<F>(f));
}

inline awaitable<void> sleep_for(asio::any_io_executor ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex, d);
  co_await t.async_wait(use_awaitable);
}

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// --- process observers -----------------------------------------------------------------------

inline std::size_t fd_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// Resident set size in bytes (/proc/self/statm).
inline std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

inline int thread_count() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return -1;
}

inline bool env_on(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

// --- PostgreSQL observers --------------------------------------------------------------------

inline EngineOptions named(const std::string& app) {
  EngineOptions o;
  o.connect.application_name = app;
  return o;
}

/// `url` with its database name replaced.
inline std::string with_database(const std::string& url, const std::string& db) {
  std::string s = url;
  const auto q = s.find('?');
  std::string query = q == std::string::npos ? "" : s.substr(q);
  if (q != std::string::npos) s = s.substr(0, q);
  const auto slash = s.find('/', s.find("://") + 3);
  s = (slash == std::string::npos ? s : s.substr(0, slash)) + "/" + db + query;
  return s;
}

/// One scalar from the server, through a short-lived sync connection (autocommit-like: the
/// connection is closed, rolling back, after reading).
inline std::int64_t pg_count(const std::string& sql, const std::string& app) {
  auto admin = create_engine(test::pg_url());
  auto c = admin.connect();
  return c.execute(text(sql).bind("app", app)).scalar_one<std::int64_t>();
}

/// Backends of `app` (optionally in one state: 'active', 'idle in transaction', ...).
inline std::int64_t backends(const std::string& app, const std::string& state = "") {
  if (state.empty()) return pg_count("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app", app);
  return pg_count("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app AND state = '" + state + "'",
                  app);
}

/// Backends of `app` in any transaction state ('idle in transaction' and its aborted form).
inline std::int64_t idle_in_transaction(const std::string& app) {
  return pg_count("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app AND state LIKE 'idle in "
                  "transaction%'",
                  app);
}

/// Waits (a real thread sleep: call it from the test thread, not a coroutine) until `pred`.
inline bool eventually(std::chrono::milliseconds limit, const std::function<bool()>& pred) {
  const auto end = Clock::now() + limit;
  for (;;) {
    if (pred()) return true;
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// --- a database per test ---------------------------------------------------------------------

/// A fresh database for one test: on PostgreSQL a new database on CORM_TEST_PG (so the same
/// tables are reachable through PgBouncer, which forwards any database name and ignores
/// startup options such as search_path), dropped at the end; on MySQL a new database on
/// CORM_TEST_MYSQL; on SQLite a new file.
class FaultDb {
 public:
  FaultDb() {
    if (test::is_mysql()) {
      name_ = test::unique_name("fdb");
      mysql_exec("CREATE DATABASE " + quote_identifier(Dialect::mysql, name_));
      url_ = with_database(test::mysql_url(), name_);
    } else if (test::is_postgres()) {
      name_ = test::unique_name("fdb");
      admin_exec("CREATE DATABASE " + quote_identifier(Dialect::postgresql, name_));
      url_ = with_database(test::pg_url(), name_);
    } else {
      url_ = test::sqlite_url();
    }
  }
  ~FaultDb() {
    if (name_.empty()) return;
    try {
      if (test::is_mysql()) {
        mysql_exec("DROP DATABASE IF EXISTS " + quote_identifier(Dialect::mysql, name_));
        return;
      }
      admin_exec("DROP DATABASE IF EXISTS " + quote_identifier(Dialect::postgresql, name_) + " WITH (FORCE)");
    } catch (...) {
    }
  }
  FaultDb(const FaultDb&) = delete;
  FaultDb& operator=(const FaultDb&) = delete;

  const std::string& url() const noexcept { return url_; }
  /// The same database through PgBouncer (transaction mode).
  std::string bouncer_url() const { return with_database(test::pgbouncer_url(), name_); }
  const std::string& name() const noexcept { return name_; }

  /// Creates the tables of the given models.
  template <class... Ts>
  void create() {
    MetaData md;
    (md.add<Ts>(), ...);
    Engine e = create_engine(url_);
    Connection c = e.connect();
    md.create_all(c);
    c.commit();
  }
  void exec(const std::string& sql) {
    Engine e = create_engine(url_);
    Connection c = e.connect();
    c.exec_driver_sql(sql);
    c.commit();
  }
  std::int64_t scalar(const std::string& sql) {
    Engine e = create_engine(url_);
    Connection c = e.connect();
    return c.exec_driver_sql(sql).scalar_one<std::int64_t>();
  }

  static void admin_exec(const std::string& sql) {
    EngineOptions o;
    o.isolation_level = IsolationLevel::autocommit;  // CREATE/DROP DATABASE refuse transactions
    Engine admin = create_engine(test::pg_url(), o);
    Connection c = admin.connect();
    c.exec_driver_sql(sql);
  }

  static void mysql_exec(const std::string& sql) {
    Engine admin = create_engine(test::mysql_url());
    Connection c = admin.connect();
    c.exec_driver_sql(sql);
  }

 private:
  std::string name_;
  std::string url_;
};

using test::Cluster;

// --- small helpers ---------------------------------------------------------------------------

/// The name of the exception in flight, for messages.
inline std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

/// Seeds counter rows 1..n with value 0.
inline void seed_counters(FaultDb& db, int n) {
  db.create<FCounter>();
  Engine e = create_engine(db.url());
  Connection c = e.connect();
  for (std::int64_t id = 1; id <= n; ++id) c.execute(insert<FCounter>().values(FCounter{id, 0}));
  c.commit();
}

}  // namespace corm::fault
