#include "corm/migrate/migrator.hpp"

#include <algorithm>

#include "corm/migrate/migration_error.hpp"
#include "corm/migrate/sql_script.hpp"
#include "corm/migrate/version_table.hpp"
#include "corm/sql/schema/inspect.hpp"

namespace corm::migrate {

namespace {

// The statement's first line of code (split_statements keeps the comments above it).
std::string first_line(const std::string& sql) {
  std::size_t at = 0;
  while (sql.compare(at, 2, "--") == 0) {
    const auto nl = sql.find('\n', at);
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  const auto nl = sql.find('\n', at);
  std::string s = sql.substr(at, std::min<std::size_t>(nl == std::string::npos ? sql.size() - at : nl - at, 160));
  return at + s.size() < sql.size() ? s + " ..." : s;
}

std::string name(const std::optional<std::string>& rev) { return rev.value_or("base"); }

std::optional<std::string> read_current(Connection& c) {
  DriverQuery exists = version_table_exists_query(c.dialect());
  if (c.exec_driver_sql(exists.sql, std::move(exists.params)).scalar_one<std::int64_t>() == 0) return std::nullopt;
  DriverQuery read = read_version_query(c.dialect());
  Result r = c.exec_driver_sql(read.sql, std::move(read.params));
  if (r.size() > 1)
    throw ConfigError(std::string(version_table_name) + " holds " + std::to_string(r.size()) +
                      " rows; it must hold one (the current revision). Delete the wrong rows or `stamp` the right revision");
  return r.scalar<std::string>();
}

// A connection that begins transactions only when asked, so SQLite's foreign_keys pragma (a
// no-op inside a transaction) can be switched around one.
Connection open(Engine& e) {
  Connection c = e.connect();
  c.set_isolation_level(IsolationLevel::autocommit);
  return c;
}

/// Seconds a MySQL migrator waits for another one's revision to finish before giving up.
constexpr int mysql_lock_wait_seconds = 600;

/// MySQL's stand-in for PostgreSQL's LOCK TABLE on the version table: a named lock of the session
/// (GET_LOCK), one per database. DDL commits implicitly on MySQL, so a transactional lock would
/// be gone after the revision's first statement; a session lock stays until RELEASE_LOCK, which
/// the destructor sends, or until the connection closes (invalidated when the release fails, so
/// a pooled connection never keeps the lock).
class MysqlMigrationLock {
 public:
  MysqlMigrationLock(Connection& c, const std::string& what) : c_(c) {
    Result r = c_.exec_driver_sql("SELECT GET_LOCK(CONCAT('corm_migrate.', MD5(COALESCE(DATABASE(), ''))), ?)",
                                  {Value(std::int64_t{mysql_lock_wait_seconds})});
    const std::optional<std::int64_t> got = r.scalar<std::int64_t>();
    if (!got || *got != 1)
      throw ConfigError("another migration of this database has held the migration lock for " +
                        std::to_string(mysql_lock_wait_seconds) + " s (MySQL GET_LOCK), so " + what +
                        " did not start; wait for it to finish (SHOW PROCESSLIST shows it) and run the command again");
  }
  ~MysqlMigrationLock() {
    try {
      c_.exec_driver_sql("SELECT RELEASE_LOCK(CONCAT('corm_migrate.', MD5(COALESCE(DATABASE(), ''))))");
    } catch (...) {
      c_.invalidate();
    }
  }
  MysqlMigrationLock(const MysqlMigrationLock&) = delete;
  MysqlMigrationLock& operator=(const MysqlMigrationLock&) = delete;

 private:
  Connection& c_;
};

}  // namespace

Migrator::Migrator(Engine engine, RevisionChain chain, std::function<void(const MigrationStep&)> on_step)
    : engine_(std::move(engine)), chain_(std::move(chain)), on_step_(std::move(on_step)) {}

std::optional<std::string> Migrator::current() {
  Connection c = open(engine_);
  return read_current(c);
}

std::vector<TableSchema> Migrator::live_schema() {
  Connection c = open(engine_);
  auto tables = inspect(c);
  tables.erase(std::remove_if(tables.begin(), tables.end(),
                              [](const TableSchema& t) { return t.name == version_table_name; }),
               tables.end());
  return tables;
}

std::vector<const Revision*> Migrator::upgrade(std::string_view target) {
  auto from = current();
  auto path = chain_.upgrade_path(from, target);
  for (const Revision* r : path) {
    run(*r, true, from, r->id);
    from = r->id;
  }
  return path;
}

std::vector<const Revision*> Migrator::downgrade(std::string_view target) {
  auto from = current();
  auto path = chain_.downgrade_path(from, target);
  for (const Revision* r : path) {
    run(*r, false, from, r->down_revision);
    from = r->down_revision;
  }
  return path;
}

void Migrator::stamp(std::string_view target) {
  std::optional<std::string> to;
  if (target == "head" || target == "heads") {
    if (const Revision* h = chain_.head()) to = h->id;
  } else if (target != "base") {
    to = chain_.resolve(target).id;
  }
  Connection c = open(engine_);
  Transaction tx = c.begin();
  c.exec_driver_sql(create_version_table_sql(c.dialect()));
  auto from = read_current(c);
  for (DriverQuery& q : write_version_queries(c.dialect(), from, to)) c.exec_driver_sql(q.sql, std::move(q.params));
  tx.commit();
}

void Migrator::run(const Revision& r, bool upgrade, const std::optional<std::string>& from,
                   const std::optional<std::string>& to) {
  const Dialect d = engine_.dialect();
  if (r.dialect && *r.dialect != d)
    throw ConfigError("revision " + r.id + " (" + r.path + ") was written for " + std::string(dialect_name(*r.dialect)) +
                      " but the database is " + std::string(dialect_name(d)) +
                      "; keep one versions directory per dialect, or remove its `-- dialect:` line if the SQL is portable");
  const std::vector<std::string> statements = split_statements(upgrade ? r.upgrade : r.downgrade);
  MigrationStep step;
  step.upgrade = upgrade;
  step.revision = &r;
  step.statements = statements.size();
  if (on_step_) on_step_(step);
  const auto started = std::chrono::steady_clock::now();

  Connection c = open(engine_);
  const bool sqlite = d == Dialect::sqlite;
  bool foreign_keys_were_on = false;
  if (sqlite) {
    foreign_keys_were_on = c.exec_driver_sql("PRAGMA foreign_keys").scalar<std::int64_t>().value_or(0) != 0;
    if (foreign_keys_were_on) c.exec_driver_sql("PRAGMA foreign_keys = OFF");
  }
  const std::string what = std::string(upgrade ? "upgrade " : "downgrade ") + r.id +
                           (r.message.empty() ? "" : " (" + r.message + ")");
  const bool transactional_ddl = dialect_traits(d).transactional_ddl;
  const std::string unchanged = "; it was rolled back, so the schema and " + std::string(version_table_name) +
                                " are unchanged (still at " + name(from) + ")";
  // Where each DDL statement commits as it runs, a failure cannot take back the ones before it.
  std::size_t applied = 0;
  auto outcome = [&] {
    if (transactional_ddl) return unchanged;
    const std::string version = "; " + std::string(version_table_name) + " is still at " + name(from);
    if (applied == 0) return version + " and none of its statements ran";
    const std::string done = applied == 1 ? "statement 1" : "statements 1 to " + std::to_string(applied);
    return version + ", but " + std::string(dialect_name(d)) + " DDL is not transactional: " + done +
           " of the revision may have stayed applied; undo or finish them by hand before running it again";
  };
  std::size_t index = 0;
  std::optional<MysqlMigrationLock> mysql_lock;
  try {
    // A second migrator waits here until this one is done, then sees the new revision below.
    if (d == Dialect::mysql) mysql_lock.emplace(c, what);
    Transaction tx = c.begin();
    c.exec_driver_sql(create_version_table_sql(d));
    // PostgreSQL: a second migrator waits here until this one commits (MySQL: the lock above).
    if (d == Dialect::postgresql)
      c.exec_driver_sql("LOCK TABLE " + quote_identifier(d, version_table_name) + " IN SHARE ROW EXCLUSIVE MODE");
    if (read_current(c) != from)
      throw ConfigError("the database's revision changed while " + what +
                        " was starting (another migration ran at the same time); run the command again");
    for (const std::string& sql : statements) {
      ++index;
      try {
        c.exec_driver_sql(sql);
        ++applied;
      } catch (const Error& e) {
        throw MigrationError(what + " failed at statement " + std::to_string(index) + " of " +
                                 std::to_string(statements.size()) + outcome() + ".\n  statement: " + first_line(sql) +
                                 "\n  error: " + e.what(),
                             r.id, index, e.detail());
      }
    }
    index = 0;
    for (DriverQuery& q : write_version_queries(d, from, to)) {
      Result res = c.exec_driver_sql(q.sql, std::move(q.params));
      if (res.rowcount() == 0)
        throw ConfigError("the version row " + name(from) + " was not found while recording " + what +
                          " (another migration ran at the same time?)");
    }
    if (sqlite) {
      Result bad = c.exec_driver_sql("PRAGMA foreign_key_check");
      if (!bad.empty()) {
        const Row row = bad.at(0);
        throw MigrationError(what + " leaves " + std::to_string(bad.size()) + " row(s) violating foreign keys (first: table " +
                                 row.get<std::string>(0) + " referring to " + row.get<std::string>(2) + ")" + unchanged +
                                 ". Fix the data in the revision before the statement that adds the key",
                             r.id, 0);
      }
    }
    tx.commit();
  } catch (const MigrationError&) {
    if (sqlite && foreign_keys_were_on) c.exec_driver_sql("PRAGMA foreign_keys = ON");
    step.phase = MigrationStep::Phase::failed;
    step.elapsed = std::chrono::steady_clock::now() - started;
    if (on_step_) on_step_(step);
    throw;
  } catch (const Error& e) {
    if (sqlite && foreign_keys_were_on) c.exec_driver_sql("PRAGMA foreign_keys = ON");
    step.phase = MigrationStep::Phase::failed;
    step.elapsed = std::chrono::steady_clock::now() - started;
    if (on_step_) on_step_(step);
    throw MigrationError(what + " failed" + outcome() + ": " + e.what(), r.id, index, e.detail());
  }
  if (sqlite && foreign_keys_were_on) c.exec_driver_sql("PRAGMA foreign_keys = ON");
  step.phase = MigrationStep::Phase::finished;
  step.elapsed = std::chrono::steady_clock::now() - started;
  if (on_step_) on_step_(step);
}

}  // namespace corm::migrate
