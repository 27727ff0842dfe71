#include "support/test_db.hpp"

#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

namespace corm::test {

namespace {
std::mutex g_mu;
std::vector<std::filesystem::path>& temp_dirs() {
  static std::vector<std::filesystem::path> dirs;
  static const bool registered = [] {
    std::atexit([] {
      std::error_code ec;
      for (auto& d : temp_dirs()) std::filesystem::remove_all(d, ec);
    });
    return true;
  }();
  (void)registered;
  return dirs;
}
}  // namespace

std::string pg_url() {
  const char* url = std::getenv("CORM_TEST_PG");
  if (url == nullptr || *url == '\0') {
    FAIL("CORM_TEST_PG is not set. PostgreSQL tests need a server: run ./scripts/test (it starts a "
         "throwaway PostgreSQL 15), or export CORM_TEST_PG=postgresql://user@127.0.0.1:5432/db");
  }
  return url;
}

namespace {
/// True once the primary's pg_stat_replication shows a standby streaming; waits up to 30 s, so a
/// standby that is reconnecting after a test restarted a server gets the time it needs.
bool standby_streaming(const std::string& primary_url) {
  Engine e = create_engine(primary_url);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    try {
      Connection c = e.connect();
      auto n = c.execute(text("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"), {})
                   .scalar_one<std::int64_t>();
      if (n > 0) return true;
    } catch (const Error&) {
      // the primary itself is briefly unavailable; keep waiting within the bound
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}
}  // namespace

std::string pg_replica_url() {
  const char* url = std::getenv("CORM_TEST_PG_REPLICA");
  if (url == nullptr || *url == '\0') {
    FAIL("CORM_TEST_PG_REPLICA is not set. Replica tests need a streaming standby of CORM_TEST_PG: "
         "run ./scripts/test (it starts one with pg_basebackup -R)");
  }
  if (!standby_streaming(pg_url())) {
    FAIL("the standby CORM_TEST_PG_REPLICA is not streaming from CORM_TEST_PG: pg_stat_replication on "
         "the primary shows no streaming standby after 30 s. A test that restarts the primary or "
         "terminates its walsender breaks replica tests; the standby's server.log says why");
  }
  return url;
}

std::string pgbouncer_url() {
  const char* url = std::getenv("CORM_TEST_PGBOUNCER");
  if (url == nullptr || *url == '\0') {
    FAIL("CORM_TEST_PGBOUNCER is not set. PgBouncer tests need PgBouncer in transaction mode in "
         "front of CORM_TEST_PG: run ./scripts/test (it starts one)");
  }
  return url;
}

std::string mysql_url() {
  const char* url = std::getenv("CORM_TEST_MYSQL");
  if (url == nullptr || *url == '\0') {
    FAIL("CORM_TEST_MYSQL is not set. MySQL tests need a server: run ./scripts/test (it starts a "
         "throwaway MariaDB 10.11), or export CORM_TEST_MYSQL=mysql://user@127.0.0.1:3306/db");
  }
  return url;
}

std::string mysql_replica_url() {
  const char* url = std::getenv("CORM_TEST_MYSQL_REPLICA");
  if (url == nullptr || *url == '\0') {
    FAIL("CORM_TEST_MYSQL_REPLICA is not set. Replica tests need a replica of CORM_TEST_MYSQL: "
         "run ./scripts/test (it starts one replicating by GTID)");
  }
  return url;
}

std::string temp_dir() {
  static std::atomic<int> counter{0};
  auto base = std::filesystem::temp_directory_path() /
              ("corm-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(base);
  std::lock_guard lock(g_mu);
  temp_dirs().push_back(base);
  return base.string();
}

std::string sqlite_url() { return "sqlite:///" + temp_dir() + "/test.db"; }

std::string unique_name(const std::string& base) {
  static std::atomic<int> counter{0};
  return "t_" + base + "_" + std::to_string(::getpid() % 100000) + "_" + std::to_string(counter++);
}

}  // namespace corm::test
