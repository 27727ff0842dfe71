// Failover against a real primary + standby pair (started by run_failover.sh, which exports the
// URLs and the kill / promote commands). Two writers — the async front and the sync front, each
// on its own engine over the multi-host URL with target_session_attrs=read-write — insert rows
// one transactional() unit each, with RetryPolicy::on_failover. Once both have committed rows,
// the primary is killed and the standby promoted while they keep writing; they must carry on on
// the new primary. Afterwards the new primary holds every row whose unit returned, each once,
// and nothing else but units whose COMMIT outcome was reported unknown. The write-unavailability
// window is printed (not asserted).

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <latch>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "corm/asyncio/async_engine.hpp"
#include "corm/core/error.hpp"
#include "corm/engine/connection.hpp"
#include "corm/engine/engine.hpp"
#include "corm/ext/async_transactional.hpp"
#include "corm/ext/transactional.hpp"
#include "corm/orm.hpp"
#include "support/async_test.hpp"

namespace fo {

struct FailoverRow {
  std::int64_t id{};
  std::string front;
};

}  // namespace fo

template <>
struct corm::Model<fo::FailoverRow> {
  using R = fo::FailoverRow;
  static constexpr auto table = corm::table("failover_rows", corm::column("id", &R::id, corm::primary_key),
                                            corm::column("front", &R::front, corm::max_length(10)));
};

using namespace corm;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') FAIL(name << " is not set: run this binary through tests/failover/run_failover.sh");
  return v;
}

std::string kind_of(const Error& e) {
  if (dynamic_cast<const CommitOutcomeUnknown*>(&e)) return "CommitOutcomeUnknown";
  if (dynamic_cast<const ReadOnlyServer*>(&e)) return "ReadOnlyServer";
  if (dynamic_cast<const ConnectionLost*>(&e)) return "ConnectionLost";
  if (dynamic_cast<const ConnectError*>(&e)) return "ConnectError";
  return std::string("other: ") + e.what();
}

std::string kind_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& x) {
    return kind_of(x);
  } catch (const std::exception& x) {
    return std::string("other: ") + x.what();
  }
}

// What one writer saw.
struct Writer {
  Writer(const char* f, std::int64_t first) : front(f), first_id(first) {}
  const char* front;
  std::int64_t first_id;
  std::vector<std::int64_t> committed;  // transactional() returned
  std::vector<std::int64_t> unknown;    // CommitOutcomeUnknown: checked on the new primary
  std::vector<std::string> errors;      // each failure, in order (retried or not)
  std::vector<Clock::time_point> commit_times;
  std::string fatal;                    // what stopped it, if not the end of the test
  int after_promotion = 0;
};

struct Shared {
  std::latch warmed_up{2};              // each writer counts down once it has committed rows
  std::atomic<bool> promoted{false};
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(45);
};

constexpr int warm_up_rows = 100;
constexpr int rows_after_promotion = 100;

ext::TxOptions tx_options(Writer& w) {
  ext::TxOptions opts;
  opts.retry = ext::RetryPolicy::on_failover(std::chrono::seconds(30));
  opts.retry.on_retry = [&w](int, const Error& e) { w.errors.push_back(kind_of(e)); };
  return opts;
}

// Bookkeeping after unit `id` ended (`error` null: it returned). False: stop writing.
bool note(Writer& w, Shared& shared, std::int64_t id, const std::exception_ptr& error, bool& counted_down) {
  if (!error) {
    w.committed.push_back(id);
    w.commit_times.push_back(Clock::now());
    if (shared.promoted.load()) ++w.after_promotion;
  } else {
    const std::string k = kind_of(error);
    w.errors.push_back(k);
    if (k != "CommitOutcomeUnknown") {
      w.fatal = "unit " + std::to_string(id) + " failed: " + k;
      return false;
    }
    w.unknown.push_back(id);
  }
  if (!counted_down && static_cast<int>(w.committed.size()) >= warm_up_rows) {
    counted_down = true;
    shared.warmed_up.count_down();
  }
  if (Clock::now() > shared.deadline) {
    w.fatal = "still writing after 45 s (promoted: " + std::string(shared.promoted ? "yes" : "no") + ")";
    return false;
  }
  return !(shared.promoted.load() && w.after_promotion >= rows_after_promotion);
}

asio::awaitable<void> async_writer(AsyncEngine engine, Writer& w, Shared& shared) {
  bool counted_down = false;
  for (std::int64_t id = w.first_id;; ++id) {
    auto work = [id, &w](AsyncSession& s) -> asio::awaitable<void> {
      auto row = std::make_shared<fo::FailoverRow>();
      row->id = id;
      row->front = w.front;
      s.add(row);
      co_return;
    };
    std::exception_ptr error;
    try {
      co_await ext::transactional(engine, work, tx_options(w));
    } catch (...) {
      error = std::current_exception();
    }
    if (!note(w, shared, id, error, counted_down)) break;
  }
  if (!counted_down) shared.warmed_up.count_down();
}

void sync_writer(Engine engine, Writer& w, Shared& shared) {
  bool counted_down = false;
  for (std::int64_t id = w.first_id;; ++id) {
    auto work = [id, &w](Session& s) {
      auto row = std::make_shared<fo::FailoverRow>();
      row->id = id;
      row->front = w.front;
      s.add(row);
    };
    std::exception_ptr error;
    try {
      ext::transactional(engine, work, tx_options(w));
    } catch (...) {
      error = std::current_exception();
    }
    if (!note(w, shared, id, error, counted_down)) break;
  }
  if (!counted_down) shared.warmed_up.count_down();
}

// The longest time between two consecutive commits of a writer: the span when it could not write.
std::chrono::milliseconds longest_gap(const Writer& w) {
  std::chrono::milliseconds gap{0};
  for (std::size_t i = 1; i < w.commit_times.size(); ++i)
    gap = std::max(gap, std::chrono::duration_cast<std::chrono::milliseconds>(w.commit_times[i] - w.commit_times[i - 1]));
  return gap;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

TEST_CASE("failover: the primary is killed and the standby promoted while async and sync writers commit through "
          "transactional(); every committed row is on the new primary once",
          "[failover]") {
  const std::string url = env("CORM_FAILOVER_URL");
  const std::string standby_url = env("CORM_FAILOVER_STANDBY_URL");
  const std::string kill_primary = env("CORM_FAILOVER_KILL");
  const std::string promote = env("CORM_FAILOVER_PROMOTE");
  {
    Engine setup = create_engine(url);
    auto c = setup.connect();
    c.exec_driver_sql("CREATE TABLE failover_rows (id BIGINT PRIMARY KEY, front VARCHAR(10) NOT NULL)");
    c.commit();
  }

  Shared shared;
  Writer async_w{"async", 1'000'000};
  Writer sync_w{"sync", 2'000'000};
  Clock::time_point kill_at{}, promoted_at{};
  int kill_status = -1, promote_status = -1;
  std::thread operator_thread([&] {
    shared.warmed_up.wait();
    kill_at = Clock::now();
    kill_status = std::system(kill_primary.c_str());
    promote_status = std::system(promote.c_str());
    promoted_at = Clock::now();
    shared.promoted.store(true);
  });

  EngineOptions options;
  options.pool.pool_size = 2;
  Engine sync_engine = create_engine(url, options);
  std::thread sync_thread([&] { sync_writer(sync_engine, sync_w, shared); });
  PoolStats async_stats;
  test::run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    AsyncEngine engine = create_async_engine(ex, url, options);
    co_await async_writer(engine, async_w, shared);
    async_stats = engine.pool_stats();
    engine.dispose();
  });
  sync_thread.join();
  operator_thread.join();
  const PoolStats sync_stats = sync_engine.pool_stats();

  REQUIRE(kill_status == 0);
  REQUIRE(promote_status == 0);
  for (const Writer* w : {&async_w, &sync_w}) {
    INFO(w->front << " writer; errors: " << join(w->errors));
    CHECK(w->fatal.empty());
    CHECK(w->after_promotion >= rows_after_promotion);
    // The unit in flight when the primary died failed as a lost connection (or, lost during its
    // COMMIT, as CommitOutcomeUnknown); the ones after found no primary until the promotion.
    REQUIRE_FALSE(w->errors.empty());
    CHECK((w->errors.front() == "ConnectionLost" || w->errors.front() == "CommitOutcomeUnknown"));
    for (const auto& e : w->errors)
      CHECK((e == "ConnectionLost" || e == "CommitOutcomeUnknown" || e == "ConnectError" || e == "ReadOnlyServer"));
  }
  // Both pools dropped their connections to the dead primary instead of handing them out again.
  const auto dropped = [](const PoolStats& s) {
    return s.closed_for(CloseReason::broken) + s.closed_for(CloseReason::invalidated);
  };
  CHECK(dropped(async_stats) >= 1);
  CHECK(dropped(sync_stats) >= 1);

  // The standby alone: it is the primary now.
  Engine check = create_engine(standby_url);
  auto c = check.connect();
  const auto rows = c.exec_driver_sql("SELECT id FROM failover_rows ORDER BY id").scalars<std::int64_t>();
  const std::set<std::int64_t> present(rows.begin(), rows.end());
  CHECK(present.size() == rows.size());  // no row twice
  std::size_t expected = 0;
  std::vector<std::string> unknown_report;
  for (const Writer* w : {&async_w, &sync_w}) {
    for (std::int64_t id : w->committed) {
      INFO(w->front << " row " << id << " was committed but is not on the new primary");
      CHECK(present.count(id) == 1);
    }
    expected += w->committed.size();
    for (std::int64_t id : w->unknown) {
      const bool there = present.count(id) == 1;
      expected += there ? 1 : 0;
      unknown_report.push_back(std::string(w->front) + " row " + std::to_string(id) + (there ? " committed" : " not committed"));
    }
  }
  CHECK(rows.size() == expected);  // nothing that no writer committed

  const auto ms = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::cout << "failover: kill + promote took " << ms(promoted_at - kill_at) << " ms; longest write gap: async "
            << longest_gap(async_w).count() << " ms, sync " << longest_gap(sync_w).count() << " ms; rows committed: async "
            << async_w.committed.size() << ", sync " << sync_w.committed.size() << "; errors (in order): async ["
            << join(async_w.errors) << "], sync [" << join(sync_w.errors) << "]; commit outcome unknown: ["
            << join(unknown_report) << "]; connections dropped: async " << dropped(async_stats) << ", sync "
            << dropped(sync_stats) << "\n";
}

// Runs after the case above, on the promoted standby (MariaDB only: a live server can be fenced
// there with read_only, which binds a user without SUPER; PostgreSQL needs a restart to demote).
TEST_CASE("failover: a write refused by a server fenced read-only is ReadOnlyServer, the connection is dropped, "
          "on_failover re-runs the unit; pool_pre_ping refuses a connection to the fenced server",
          "[failover][read-only]") {
  const char* app = std::getenv("CORM_FAILOVER_APP_URL");
  if (app == nullptr) return;  // PostgreSQL run
  const std::string app_url = app;
  EngineOptions autocommit;  // SET GLOBAL read_only refuses to run inside a transaction
  autocommit.isolation_level = IsolationLevel::autocommit;
  Engine admin = create_engine(env("CORM_FAILOVER_STANDBY_URL"), autocommit);
  auto fence = [&](bool on) {
    auto c = admin.connect();
    c.exec_driver_sql(on ? "SET GLOBAL read_only = ON" : "SET GLOBAL read_only = OFF");
  };
  auto insert = [](std::int64_t id) {
    return [id](Session& s) {
      auto row = std::make_shared<fo::FailoverRow>();
      row->id = id;
      row->front = "fenced";
      s.add(row);
    };
  };

  Engine writer = create_engine(app_url);
  ext::transactional(writer, insert(3'000'001));  // the pool now holds a connection to the primary
  fence(true);
  std::vector<std::string> errors;
  ext::TxOptions opts;
  opts.retry = ext::RetryPolicy::on_failover(std::chrono::seconds(10));
  opts.retry.on_retry = [&](int, const Error& e) {
    errors.push_back(kind_of(e));
    fence(false);  // the operator's fix, while the unit waits to run again
  };
  ext::transactional(writer, insert(3'000'002), opts);
  CHECK(errors == std::vector<std::string>{"ReadOnlyServer"});
  CHECK(writer.pool_stats().closed_for(CloseReason::broken) == 1);

  EngineOptions pinged;
  pinged.pool.pool_pre_ping = true;
  Engine checked = create_engine(app_url, pinged);
  (void)checked.connect();  // opened, returned idle
  fence(true);
  CHECK_THROWS_WITH(checked.connect(), Catch::Matchers::Contains("read-only (@@read_only or @@innodb_read_only is ON)"));
  CHECK(checked.pool_stats().closed_for(CloseReason::pre_ping_failed) == 1);
  fence(false);

  auto c = admin.connect();
  CHECK(c.exec_driver_sql("SELECT COUNT(*) FROM failover_rows WHERE id IN (3000001, 3000002)").scalar_one<std::int64_t>() ==
        2);
}
