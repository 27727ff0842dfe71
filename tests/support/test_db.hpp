#pragma once
// Where integration tests find their database. Suites under tests/integration, tests/sql/
// integration and tests/async are compiled once per backend (CORM_TEST_BACKEND_SQLITE /
// CORM_TEST_BACKEND_POSTGRES / CORM_TEST_BACKEND_MYSQL); the same test body then runs on each.

#include <string>

namespace corm::test {

enum class Backend { sqlite, postgres, mysql };

/// The backend this test binary was built for (unit tests: sqlite). Inline on purpose: the
/// backend macro belongs to each suite's own translation units, not to the support library.
inline Backend backend() noexcept {
#if defined(CORM_TEST_BACKEND_POSTGRES)
  return Backend::postgres;
#elif defined(CORM_TEST_BACKEND_MYSQL)
  return Backend::mysql;
#else
  return Backend::sqlite;
#endif
}
inline bool is_postgres() noexcept { return backend() == Backend::postgres; }
inline bool is_sqlite() noexcept { return backend() == Backend::sqlite; }
inline bool is_mysql() noexcept { return backend() == Backend::mysql; }

/// The PostgreSQL URL from CORM_TEST_PG. Fails the test (never skips) when it is unset, saying
/// how to run the suite.
std::string pg_url();

/// The URL of a streaming hot standby of CORM_TEST_PG (CORM_TEST_PG_REPLICA); fails when unset.
std::string pg_replica_url();

/// The URL of PgBouncer in transaction mode in front of CORM_TEST_PG (CORM_TEST_PGBOUNCER);
/// fails when unset.
std::string pgbouncer_url();

/// The MySQL / MariaDB URL from CORM_TEST_MYSQL. Fails the test (never skips) when it is unset,
/// saying how to run the suite.
std::string mysql_url();

/// The URL of a GTID replica of CORM_TEST_MYSQL (CORM_TEST_MYSQL_REPLICA); fails when unset.
std::string mysql_replica_url();

/// A new SQLite database file URL in a temp directory (removed at exit).
std::string sqlite_url();

/// A fresh database URL for the current backend: a new SQLite file, or the PostgreSQL or MySQL
/// server.
inline std::string database_url() {
  switch (backend()) {
    case Backend::postgres: return pg_url();
    case Backend::mysql: return mysql_url();
    case Backend::sqlite: break;
  }
  return sqlite_url();
}

/// A fresh temporary directory, removed at process exit.
std::string temp_dir();

/// A table name unique within this process run ("t_books_3"), so tests never collide.
std::string unique_name(const std::string& base);

}  // namespace corm::test
