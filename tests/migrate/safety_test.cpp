// What keeps a migration safe: a failing revision leaves schema and version untouched, a
// branched chain is refused naming both heads, and --sql runs nothing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "corm/migrate/revision.hpp"
#include "migrate/migrate_env.hpp"
#include "migrate/models.hpp"
#include "support/test_db.hpp"

using namespace corm;
using namespace corm::test;
using namespace corm::test_migrate;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void write_revision(const MigrateProject& p, const std::string& id, std::optional<std::string> parent,
                    const std::string& up, const std::string& down) {
  migrate::Revision r;
  r.id = id;
  r.down_revision = std::move(parent);
  r.message = "hand-written " + id;
  r.upgrade = up;
  r.downgrade = down;
  write_text((fs::path(p.versions()) / (id + "_hand.sql")).string(), migrate::render_revision(r));
}

// A table or column name as this backend's DDL quotes it.
std::string qn(const std::string& name) { return quote_identifier(is_mysql() ? Dialect::mysql : Dialect::sqlite, name); }

bool has_table(FreshDatabase& db, const std::string& name) {
  auto names = db.table_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

TEST_CASE("a revision that fails midway leaves the schema and the version unchanged", "[migrate]") {
  FreshDatabase db;
  MigrateProject project(db);
  REQUIRE(project.run(no_models(), {"init", project.versions()}).status == 0);
  write_revision(project, "aa01", std::nullopt, "CREATE TABLE mig_widgets (id BIGINT NOT NULL PRIMARY KEY, label TEXT);\n",
                 "DROP TABLE mig_widgets;\n");
  // DDL first, then a statement that fails: everything of the revision must be undone.
  write_revision(project, "aa02", "aa01",
                 "ALTER TABLE mig_widgets ADD COLUMN extra TEXT;\n"
                 "CREATE INDEX ix_mig_widgets_extra ON mig_widgets (extra);\n"
                 "CREATE TABLE mig_more (id BIGINT NOT NULL PRIMARY KEY);\n"
                 "INSERT INTO mig_no_such_table (id) VALUES (1);\n",
                 "DROP TABLE mig_more;\n");

  CliResult r = project.run(no_models(), {"upgrade", "head"});
  INFO(r.out << r.err);
  CHECK(r.status == 1);
  CHECK(contains(r.out, "FAILED"));
  CHECK(contains(r.err, "aa02"));
  CHECK(contains(r.err, "statement 4 of 4"));
  CHECK(contains(r.err, "mig_no_such_table"));
  if (is_mysql()) {
    // MySQL commits each DDL statement as it runs: the tool says so up front and in the failure,
    // names what may have stayed, and the version is not moved.
    CHECK(contains(r.out, "DDL is not transactional"));
    CHECK(contains(r.out, "may have stayed applied"));
    CHECK(contains(r.err, "statements 1 to 3 of the revision may have stayed applied"));
    CHECK_FALSE(contains(r.err, "rolled back"));
    CHECK(db.version_rows() == std::vector<std::string>{"aa01"});
    CHECK(has_table(db, "mig_more"));
    return;
  }
  CHECK(contains(r.err, "rolled back"));

  // aa01 ran and stays; aa02 left no trace.
  CHECK(db.version_rows() == std::vector<std::string>{"aa01"});
  CHECK(has_table(db, "mig_widgets"));
  CHECK_FALSE(has_table(db, "mig_more"));
  const auto schema = db.schema();
  REQUIRE(schema.size() == 1);
  CHECK(schema[0].column("extra") == nullptr);
  CHECK(schema[0].indexes.empty());

  // A failing first revision leaves no version row at all.
  FreshDatabase db2;
  MigrateProject p2(db2);
  REQUIRE(p2.run(no_models(), {"init", p2.versions()}).status == 0);
  write_revision(p2, "bb01", std::nullopt,
                 "CREATE TABLE mig_widgets (id BIGINT NOT NULL PRIMARY KEY);\nSELECT * FROM mig_nothing_here;\n",
                 "DROP TABLE mig_widgets;\n");
  r = p2.run(no_models(), {"upgrade"});
  CHECK(r.status == 1);
  CHECK(db2.version_rows().empty());
  CHECK(db2.schema().empty());
}

TEST_CASE("two heads are reported by name and refused where a head must be chosen", "[migrate]") {
  FreshDatabase db;
  MigrateProject project(db);
  REQUIRE(project.run(no_models(), {"init", project.versions()}).status == 0);
  write_revision(project, "cc01", std::nullopt, "CREATE TABLE mig_widgets (id BIGINT NOT NULL PRIMARY KEY);\n",
                 "DROP TABLE mig_widgets;\n");
  write_revision(project, "cc02", "cc01", "CREATE TABLE mig_left (id BIGINT NOT NULL PRIMARY KEY);\n",
                 "DROP TABLE mig_left;\n");
  write_revision(project, "cc03", "cc01", "CREATE TABLE mig_right (id BIGINT NOT NULL PRIMARY KEY);\n",
                 "DROP TABLE mig_right;\n");

  CliResult r = project.run(no_models(), {"heads"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "cc02"));
  CHECK(contains(r.out, "cc03"));
  CHECK_FALSE(contains(r.out, "cc01"));
  CHECK(contains(r.err, "2 heads"));

  r = project.run(no_models(), {"upgrade", "head"});
  CHECK(r.status == 1);
  CHECK(contains(r.err, "2 heads"));
  CHECK(contains(r.err, "cc02"));
  CHECK(contains(r.err, "cc03"));
  CHECK(db.version_rows().empty());  // nothing ran

  r = project.run(no_models(), {"revision", "-m", "next"});
  CHECK(r.status == 1);
  CHECK(contains(r.err, "cc02"));
  CHECK(contains(r.err, "cc03"));
  CHECK(project.revision_files().size() == 3);

  // An explicit target on one branch still works.
  r = project.run(no_models(), {"upgrade", "cc02"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(db.version_rows() == std::vector<std::string>{"cc02"});
}

TEST_CASE("offline mode (--sql) prints the upgrade and downgrade SQL and executes nothing", "[migrate]") {
  FreshDatabase db;
  MigrateProject project(db);
  REQUIRE(project.run(no_models(), {"init", project.versions()}).status == 0);
  REQUIRE(project.run(models_v1(), {"revision", "-m", "create library", "--autogenerate"}).status == 0);
  const auto rev = migrate::parse_revision(read_text(project.revision_files().at(0)));

  CliResult r = project.run(models_v1(), {"upgrade", "head", "--sql"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "CREATE TABLE " + qn("mig_authors")));
  CHECK(contains(r.out, "CREATE TABLE " + qn("mig_books")));
  CHECK(contains(r.out, "BEGIN;"));
  CHECK(contains(r.out, "COMMIT;"));
  CHECK(contains(r.out, "INSERT INTO " + qn("corm_version") + " (" + qn("version_num") + ") VALUES ('" + rev.id + "')"));
  CHECK(db.table_names().empty());  // not even the version table

  r = project.run(models_v1(), {"downgrade", "head:base", "--sql"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "DROP TABLE " + qn("mig_authors")));
  CHECK(contains(r.out, "DELETE FROM " + qn("corm_version")));
  CHECK(db.table_names().empty());

  r = project.run(models_v1(), {"downgrade", "-1", "--sql"});
  CHECK(r.status == 2);  // offline downgrade needs FROM:TO
  CHECK(contains(r.err, "FROM:TO"));
}
