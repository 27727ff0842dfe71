#pragma once
// What the migration tests share: a fresh, empty database per test (a new SQLite file, or a new
// PostgreSQL database created on the CORM_TEST_PG server and dropped afterwards, so "empty
// schema" means empty and tests never see each other's tables), and the command line run
// in-process with its output captured.

#include <sstream>
#include <string>
#include <vector>

#include "corm/engine/engine.hpp"
#include "corm/migrate/cli.hpp"
#include "corm/sql/schema/metadata.hpp"
#include "corm/sql/schema/table_schema.hpp"

namespace corm::test {

/// A fresh empty database for one test, removed when this goes out of scope.
class FreshDatabase {
 public:
  FreshDatabase();
  ~FreshDatabase();
  FreshDatabase(const FreshDatabase&) = delete;
  FreshDatabase& operator=(const FreshDatabase&) = delete;

  const std::string& url() const noexcept { return url_; }
  /// An engine on it (created once).
  Engine& engine();
  /// Every table it has, introspected, without the version table.
  std::vector<TableSchema> schema();
  /// Every table it has, introspected, including the version table.
  std::vector<std::string> table_names();
  /// The rows of corm_version (empty when the table does not exist).
  std::vector<std::string> version_rows();

 private:
  std::string url_;
  std::string pg_name_;  // the scratch database (PostgreSQL or MySQL)
  std::optional<Engine> engine_;
};

/// Output and exit status of one command.
struct CliResult {
  int status = -1;
  std::string out;
  std::string err;
};

/// A migrations project in a temp directory against one database: runs commands with
/// --config <tmp>/corm-migrate.ini and --url <db>.
class MigrateProject {
 public:
  explicit MigrateProject(const FreshDatabase& db);
  /// Runs `args` with the given models; the config and URL options are added.
  CliResult run(const MetaData& models, std::vector<std::string> args) const;
  const std::string& dir() const noexcept { return dir_; }
  const std::string& versions() const noexcept { return versions_; }
  /// The revision files in the versions directory, sorted.
  std::vector<std::string> revision_files() const;

 private:
  std::string url_;
  std::string dir_;
  std::string versions_;
};

/// Reads a whole file.
std::string read_text(const std::string& path);
/// Writes a whole file.
void write_text(const std::string& path, const std::string& text);

}  // namespace corm::test
