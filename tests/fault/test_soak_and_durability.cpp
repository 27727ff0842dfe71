// Reliability fault 14 (checkout -> SELECT 1 -> return cycles from 64 coroutines: memory, fds and
// backends stay flat) and case 15 (the process SIGKILLed at several points of a 10,000-row
// flush: the table holds 0 or 10,000 rows, and 10,000 whenever the commit was acknowledged).

// Not on MySQL: it watches backends through pg_stat_activity and SIGKILLs a PostgreSQL cluster of its own.
#if !defined(CORM_TEST_BACKEND_MYSQL)

#include <poll.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>

#include "fault/fault_support.hpp"
#include "support/sanitizer.hpp"

using namespace corm;
using namespace corm::fault;

// --- case 14 ---------------------------------------------------------------------------------

namespace {

struct SoakPhase {
  std::int64_t cycles = 0;
  std::vector<std::string> errors;
  std::size_t max_checked_out = 0;
  std::size_t max_open = 0;
  std::size_t max_fds = 0;
};

// Runs `cycles` checkout -> SELECT 1 -> return cycles from `coroutines` coroutines.
SoakPhase soak(AsyncEngine& engine, asio::io_context& io, std::int64_t cycles, int coroutines) {
  SoakPhase out;
  std::int64_t started = 0;
  int finished = 0;
  auto strand = asio::make_strand(io);  // the phase's bookkeeping; the engine runs on every thread
  for (int w = 0; w < coroutines; ++w) {
    asio::co_spawn(
        strand,
        [&]() -> awaitable<void> {
          while (started < cycles) {
            ++started;
            try {
              auto c = co_await engine.connect();
              if ((co_await c.execute(text("SELECT 1"))).scalar_one<int>() != 1) out.errors.emplace_back("wrong");
              co_await c.close();
              ++out.cycles;
            } catch (const std::exception& e) {
              if (out.errors.size() < 10) out.errors.emplace_back(e.what());
            }
            if (out.cycles % 997 == 0) {
              auto st = engine.pool_status();
              out.max_checked_out = std::max(out.max_checked_out, st.checked_out);
              out.max_open = std::max(out.max_open, st.open);
              out.max_fds = std::max(out.max_fds, fd_count());
            }
          }
          ++finished;
        },
        asio::detached);
  }
  test::run_io(io);
  CHECK(finished == coroutines);
  return out;
}

}  // namespace

TEST_CASE("fault 14: checkout, SELECT 1, return from 64 coroutines: RSS, fds and backends stay flat",
          "[fault][soak]") {
  // The million cycles run with CORM_SOAK=1 (see docs/reliability.md); the default run is
  // shorter so the whole suite stays within a few minutes.
  const bool full = env_on("CORM_SOAK");
  const std::int64_t cycles = full ? 1'000'000 : (test::is_postgres() ? 60'000 : 60'000);
  const std::int64_t warmup = full ? 50'000 : 10'000;
  Watchdog dog(full ? 3600s : 300s, "soak");
  const auto app = test::unique_name("soak");
  const std::string url = test::is_postgres() ? test::pg_url() : test::sqlite_url();
  EngineOptions opts = named(app);
  opts.pool.pool_size = 8;
  opts.pool.max_overflow = 4;
  opts.pool.pool_timeout = 60s;
  const std::size_t capacity = opts.pool.pool_size + opts.pool.max_overflow;

  // Backends of this engine, sampled from another thread throughout the run (PostgreSQL).
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> max_backends{0};
  std::thread sampler;
  if (test::is_postgres()) {
    sampler = std::thread([&] {
      auto admin = create_engine(test::pg_url());
      auto c = admin.connect();
      while (!stop) {
        auto n = c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app").bind("app", app))
                     .scalar_one<std::int64_t>();
        c.rollback();
        if (n > max_backends) max_backends = n;
        std::this_thread::sleep_for(50ms);
      }
    });
  }
  asio::io_context io;
  auto engine = create_async_engine(io.get_executor(), url, opts);
  const auto t0 = Clock::now();
  auto warm = soak(engine, io, warmup, 64);
  engine.dispose();  // quiescent: only what the engine keeps for good remains
  const std::size_t fd0 = fd_count();
  const std::size_t rss0 = rss_bytes();
  const auto t1 = Clock::now();
  auto run = soak(engine, io, cycles, 64);
  const double secs = seconds_since(t1);
  engine.dispose();
  const std::size_t fd1 = fd_count();
  const std::size_t rss1 = rss_bytes();
  stop = true;
  if (sampler.joinable()) sampler.join();
  INFO(cycles << " cycles in " << secs << " s (" << static_cast<double>(cycles) / secs << "/s); warm-up "
              << seconds_since(t0) - secs << " s; RSS " << rss0 / 1024 << " -> " << rss1 / 1024 << " KiB; fds " << fd0
              << " -> " << fd1 << " (max " << run.max_fds << "); max backends " << max_backends.load());
  for (auto& e : run.errors) UNSCOPED_INFO("error: " << e);
  CHECK(warm.errors.empty());
  CHECK(run.errors.empty());
  CHECK(run.cycles == cycles);
  CHECK(fd1 == fd0);
  if (!test::memory_is_instrumented) CHECK(rss1 < rss0 + (2u << 20));  // < 2 MB growth after warm-up
  CHECK(run.max_open <= capacity);
  CHECK(run.max_checked_out <= capacity);
  // Each pooled connection holds at most a few fds (PostgreSQL: 1 socket; SQLite: db, WAL, shm).
  CHECK(run.max_fds <= fd0 + capacity * 3 + 4);
  if (test::is_postgres()) {
    CHECK(max_backends.load() > 0);
    CHECK(max_backends.load() <= static_cast<std::int64_t>(capacity));
  }
}

// --- case 15 ---------------------------------------------------------------------------------

namespace {

constexpr std::int64_t flush_rows = 10'000;

// The child: flushes 10,000 rows in one transaction, writing 'S' to `fd` when the flush starts
// and 'C' once the commit was acknowledged. Never returns.
[[noreturn]] void flush_child(const std::string& url, const std::string& app, int fd) {
  int code = 0;
  try {
    asio::io_context io;
    std::exception_ptr error;
    asio::co_spawn(
        io,
        [&]() -> awaitable<void> {
          auto engine = create_async_engine(io.get_executor(), url, named(app));
          AsyncSession s(engine);
          for (std::int64_t i = 1; i <= flush_rows; ++i) {
            auto it = std::make_shared<FItem>();
            it->id = i;
            it->name = "row " + std::to_string(i);
            it->n = i;
            s.add(it);
          }
          (void)!::write(fd, "S", 1);
          co_await s.commit();
          (void)!::write(fd, "C", 1);
          co_await s.close();
        },
        [&](std::exception_ptr e) { error = e; });
    io.run();
    if (error) code = 2;
  } catch (...) {
    code = 3;
  }
  ::_exit(code);  // never the parent's atexit handlers (they would remove its temp files)
}

struct ChildRun {
  bool started = false;
  bool acknowledged = false;
  bool killed = false;
  double flush_seconds = 0;  // 'S' to 'C', when both came
  int exit_code = -1;
};

// Forks a child running flush_child; SIGKILLs it `kill_after` after it signalled the start
// (never, when nullopt; right after the acknowledgement when kill_after is negative).
ChildRun run_child(const std::string& url, const std::string& app, std::optional<std::chrono::microseconds> kill_after) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    flush_child(url, app, p[1]);
  }
  ::close(p[1]);
  ChildRun r;
  auto read_byte = [&](int timeout_ms) -> char {
    pollfd pf{p[0], POLLIN, 0};
    if (::poll(&pf, 1, timeout_ms) <= 0) return 0;
    char ch = 0;
    return ::read(p[0], &ch, 1) == 1 ? ch : 0;
  };
  const char first = read_byte(60'000);
  r.started = first == 'S';
  const auto started_at = Clock::now();
  if (r.started && kill_after) {
    if (kill_after->count() < 0) {
      r.acknowledged = read_byte(60'000) == 'C';
    } else {
      std::this_thread::sleep_for(*kill_after);
    }
    ::kill(pid, SIGKILL);
    r.killed = true;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!r.acknowledged) {
    const char next = read_byte(0);
    r.acknowledged = next == 'C';
    if (r.acknowledged) r.flush_seconds = seconds_since(started_at);
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  ::close(p[0]);
  return r;
}

}  // namespace

TEST_CASE("fault 15: SIGKILL at several points of a 10,000-row flush leaves 0 or 10,000 rows", "[fault][durability]") {
  // The watchdog here is alarm(2) (default action: end the process), not a thread: fork() needs
  // a single-threaded parent.
  ::alarm(240);
  FaultDb db;
  db.create<FItem>();
  const auto app = test::unique_name("sigkill");
  // fork() copies only the calling thread: the child must not need anything another thread holds.
  REQUIRE(thread_count() == 1);
  auto settle = [&] {
    // A killed client's backend finishes (rolls back or commits) on its own: wait for it.
    if (test::is_postgres()) CHECK(eventually(10s, [&] { return backends(app) == 0; }));
  };
  // Uninterrupted: how long the flush takes here.
  auto full = run_child(db.url(), app, std::nullopt);
  REQUIRE(full.started);
  REQUIRE(full.exit_code == 0);
  REQUIRE(full.acknowledged);
  settle();
  CHECK(db.scalar("SELECT count(*) FROM fault_items") == flush_rows);
  db.exec("DELETE FROM fault_items");
  const double d = std::max(full.flush_seconds, 0.01);
  INFO("an uninterrupted flush takes " << d << " s");

  int zero = 0, all = 0;
  std::vector<double> fractions = {0.0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.0, 1.3};
  for (double f : fractions) {
    auto r = run_child(db.url(), app, std::chrono::microseconds(static_cast<std::int64_t>(f * d * 1e6)));
    REQUIRE(r.started);
    settle();
    const auto n = db.scalar("SELECT count(*) FROM fault_items");
    INFO("killed at " << f << " of the flush: " << n << " rows, acknowledged " << r.acknowledged);
    CHECK((n == 0 || n == flush_rows));
    if (r.acknowledged) CHECK(n == flush_rows);
    (n == 0 ? zero : all) += 1;
    if (n != 0) db.exec("DELETE FROM fault_items");
  }
  // Killed right after the commit was acknowledged: everything is there.
  auto acked = run_child(db.url(), app, std::chrono::microseconds(-1));
  REQUIRE(acked.acknowledged);
  settle();
  CHECK(db.scalar("SELECT count(*) FROM fault_items") == flush_rows);
  INFO(zero << " kills left 0 rows, " << all << " left 10,000");
  CHECK(zero > 0);  // some kills did land before the commit
  ::alarm(0);
}

#endif  // !CORM_TEST_BACKEND_MYSQL
