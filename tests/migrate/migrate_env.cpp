#include "migrate/migrate_env.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "corm/core/url.hpp"
#include "corm/migrate/version_table.hpp"
#include "corm/sql/schema/inspect.hpp"
#include "support/test_db.hpp"

namespace corm::test {

namespace fs = std::filesystem;

namespace {
Connection admin_connection() {
  static Engine admin = create_engine(pg_url());
  Connection c = admin.connect();
  c.set_isolation_level(IsolationLevel::autocommit);
  return c;
}

Connection mysql_admin_connection() {
  static Engine admin = create_engine(mysql_url());
  return admin.connect();
}
}  // namespace

FreshDatabase::FreshDatabase() {
  if (is_sqlite()) {
    url_ = sqlite_url();
    return;
  }
  static std::atomic<int> counter{0};
  pg_name_ = "corm_migrate_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  if (is_mysql()) {
    Connection c = mysql_admin_connection();
    c.exec_driver_sql("DROP DATABASE IF EXISTS " + quote_identifier(Dialect::mysql, pg_name_));
    c.exec_driver_sql("CREATE DATABASE " + quote_identifier(Dialect::mysql, pg_name_));
    url_ = Url::parse(mysql_url()).with_database(pg_name_).str_with_password();
    return;
  }
  Connection c = admin_connection();
  c.exec_driver_sql("DROP DATABASE IF EXISTS " + quote_identifier(Dialect::postgresql, pg_name_));
  c.exec_driver_sql("CREATE DATABASE " + quote_identifier(Dialect::postgresql, pg_name_));
  url_ = Url::parse(pg_url()).with_database(pg_name_).str_with_password();
}

FreshDatabase::~FreshDatabase() {
  if (engine_) engine_->dispose();
  engine_.reset();
  if (pg_name_.empty()) return;
  try {
    if (is_mysql()) {
      Connection c = mysql_admin_connection();
      c.exec_driver_sql("DROP DATABASE IF EXISTS " + quote_identifier(Dialect::mysql, pg_name_));
      return;
    }
    Connection c = admin_connection();
    c.exec_driver_sql("DROP DATABASE IF EXISTS " + quote_identifier(Dialect::postgresql, pg_name_) + " WITH (FORCE)");
  } catch (...) {
    // Leaving a scratch database behind must not fail the test that used it.
  }
}

Engine& FreshDatabase::engine() {
  if (!engine_) engine_ = create_engine(url_);
  return *engine_;
}

std::vector<TableSchema> FreshDatabase::schema() {
  Connection c = engine().connect();
  auto tables = inspect(c);
  c.rollback();
  tables.erase(std::remove_if(tables.begin(), tables.end(),
                              [](const TableSchema& t) { return t.name == migrate::version_table_name; }),
               tables.end());
  return tables;
}

std::vector<std::string> FreshDatabase::table_names() {
  Connection c = engine().connect();
  std::vector<std::string> out;
  for (const TableSchema& t : inspect(c)) out.push_back(t.name);
  c.rollback();
  return out;
}

std::vector<std::string> FreshDatabase::version_rows() {
  auto names = table_names();
  if (std::find(names.begin(), names.end(), migrate::version_table_name) == names.end()) return {};
  Connection c = engine().connect();
  auto rows = c.exec_driver_sql("SELECT version_num FROM corm_version").scalars<std::string>();
  c.rollback();
  return rows;
}

MigrateProject::MigrateProject(const FreshDatabase& db) : url_(db.url()), dir_(temp_dir()) {
  versions_ = (fs::path(dir_) / "migrations").string();
}

CliResult MigrateProject::run(const MetaData& models, std::vector<std::string> args) const {
  args.insert(args.begin(), {"--config", (fs::path(dir_) / "corm-migrate.ini").string(), "--url", url_});
  std::ostringstream out, err;
  migrate::CliEnvironment env;
  env.out = &out;
  env.err = &err;
  CliResult r;
  r.status = migrate::run(args, models, env);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::vector<std::string> MigrateProject::revision_files() const {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(versions_))
    if (e.path().extension() == ".sql") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

}  // namespace corm::test
