// The whole Alembic-style workflow through the command line, on the backend this binary was
// built for: init → autogenerate on an empty database → upgrade head → change the models →
// autogenerate only the changes → upgrade → check → downgrade -1 → downgrade base.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

#include "corm/migrate/revision.hpp"
#include "corm/migrate/schema_diff.hpp"
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

Dialect dialect() { return is_postgres() ? Dialect::postgresql : is_mysql() ? Dialect::mysql : Dialect::sqlite; }

// The one file in `after` that is not in `before`.
std::string new_file(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  std::vector<std::string> added;
  for (const std::string& f : after)
    if (std::find(before.begin(), before.end(), f) == before.end()) added.push_back(f);
  REQUIRE(added.size() == 1);
  return added[0];
}

std::string describe_all(const std::vector<TableSchema>& tables) {
  std::string s;
  for (const TableSchema& t : tables) s += describe(t);
  return s;
}

}  // namespace

TEST_CASE("migration workflow: autogenerate, upgrade, change the models, check, downgrade -1, downgrade base",
          "[migrate]") {
  FreshDatabase db;
  MigrateProject project(db);
  const Dialect d = dialect();

  // init writes the versions directory and the config file the later commands read.
  CliResult r = project.run(no_models(), {"init", project.versions()});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(fs::is_directory(project.versions()));
  REQUIRE(fs::exists(fs::path(project.dir()) / "corm-migrate.ini"));

  // Autogenerate against an empty database: the whole v1 schema, nothing applied yet.
  r = project.run(models_v1(), {"revision", "-m", "create library", "--autogenerate"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto files = project.revision_files();
  REQUIRE(files.size() == 1);
  const migrate::Revision rev1 = migrate::parse_revision(read_text(files[0]), files[0]);
  CHECK_FALSE(rev1.down_revision.has_value());
  CHECK(rev1.message == "create library");
  CHECK(contains(r.out, rev1.id));
  CHECK(db.schema().empty());

  // upgrade head creates exactly the mapped schema and records the revision.
  r = project.run(models_v1(), {"upgrade", "head"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Running upgrade base -> " + rev1.id));
  const std::vector<TableSchema> v1_schema = db.schema();
  INFO("introspected:\n" << describe_all(v1_schema) << "declared:\n" << describe_all(models_v1().schema(d)));
  CHECK(v1_schema == models_v1().schema(d));
  CHECK(db.version_rows() == std::vector<std::string>{rev1.id});

  r = project.run(models_v1(), {"check"});
  CHECK(r.status == 0);

  // Rows to carry through the upgrade (SQLite rebuilds mig_authors by copy-and-move).
  {
    Connection c = db.engine().connect();
    c.exec_driver_sql("INSERT INTO mig_authors (name, email, legacy_code) VALUES ('Le Guin', 'ulg@example.org', 'x1')");
    c.exec_driver_sql("INSERT INTO mig_books (author_id, title, pages) VALUES (1, 'The Dispossessed', 387)");
    c.commit();
  }

  // The v2 models differ from the database: check fails, naming the differences.
  r = project.run(models_v2(), {"check"});
  CHECK(r.status == 1);
  CHECK(contains(r.out, "add table mig_tags"));

  // Autogenerate with the v2 models gives exactly the changes made, nothing else.
  const auto expected = migrate::diff_schemas(v1_schema, models_v2().schema(d));
  std::set<std::tuple<migrate::ChangeKind, std::string, std::string>> kinds;
  for (const auto& c : expected) kinds.emplace(c.kind, c.table, c.name);
  using K = migrate::ChangeKind;
  const std::set<std::tuple<migrate::ChangeKind, std::string, std::string>> made{
      {K::add_table, "mig_tags", ""},
      {K::drop_table, "mig_notes", ""},
      {K::drop_column, "mig_authors", "legacy_code"},
      {K::add_unique, "mig_authors", "uq_mig_authors_name"},
      {K::add_column, "mig_books", "rating"},
      {K::add_index, "mig_books", "ix_mig_books_rating"},
  };
  CHECK(kinds == made);

  r = project.run(models_v2(), {"revision", "-m", "tags, ratings, unique names", "--autogenerate"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::string file2 = new_file(files, project.revision_files());
  const migrate::Revision rev2 = migrate::parse_revision(read_text(file2), file2);
  CHECK(rev2.down_revision == rev1.id);
  for (const auto& c : expected) CHECK(contains(r.out, c.describe()));
  std::size_t listed = 0;
  for (std::size_t p = r.out.find("\n  "); p != std::string::npos; p = r.out.find("\n  ", p + 1)) ++listed;
  CHECK(listed == expected.size() + 1);  // + the "revision X, down_revision Y" line
  CHECK(contains(rev2.upgrade, "-- REVIEW:"));  // a table dropped while another is added: maybe a rename
  if (d == Dialect::sqlite) CHECK(contains(rev2.upgrade, "copy-and-move"));
  CHECK_FALSE(contains(rev2.upgrade, "mig_books\" (\"id\""));  // mig_books is altered, not re-created

  r = project.run(models_v2(), {"upgrade", "head"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Running upgrade " + rev1.id + " -> " + rev2.id));
  CHECK(db.schema() == models_v2().schema(d));
  CHECK(db.version_rows() == std::vector<std::string>{rev2.id});
  {
    Connection c = db.engine().connect();
    CHECK(c.exec_driver_sql("SELECT name FROM mig_authors WHERE id = 1").scalar_one<std::string>() == "Le Guin");
    CHECK(c.exec_driver_sql("SELECT rating FROM mig_books WHERE id = 1").scalar_one<std::int64_t>() == 0);
    c.rollback();
  }

  r = project.run(models_v2(), {"check"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "matches the models"));

  r = project.run(models_v2(), {"current"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, rev2.id + " (head)"));

  // downgrade -1 restores the v1 schema exactly (and the rows survive the way back).
  r = project.run(models_v2(), {"downgrade", "-1"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const std::vector<TableSchema> back = db.schema();
  INFO("after downgrade:\n" << describe_all(back));
  CHECK(back == v1_schema);
  CHECK(db.version_rows() == std::vector<std::string>{rev1.id});
  {
    Connection c = db.engine().connect();
    CHECK(c.exec_driver_sql("SELECT title FROM mig_books WHERE author_id = 1").scalar_one<std::string>() ==
          "The Dispossessed");
    c.rollback();
  }

  r = project.run(models_v2(), {"history"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "base -> " + rev1.id));
  CHECK(contains(r.out, rev1.id + " -> " + rev2.id + " (head)"));

  // downgrade base leaves an empty schema: no table but the (empty) version table.
  r = project.run(models_v2(), {"downgrade", "base"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(db.schema().empty());
  CHECK(db.table_names() == std::vector<std::string>{"corm_version"});
  CHECK(db.version_rows().empty());
  r = project.run(models_v2(), {"current"});
  CHECK(contains(r.out, "base"));
}

TEST_CASE("upgrade with nothing to do says so and changes nothing", "[migrate]") {
  FreshDatabase db;
  MigrateProject project(db);
  REQUIRE(project.run(no_models(), {"init", project.versions()}).status == 0);
  CliResult r = project.run(models_v1(), {"upgrade"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "Nothing to do"));
  CHECK(db.schema().empty());
}

TEST_CASE("stamp records a revision without running it", "[migrate]") {
  FreshDatabase db;
  MigrateProject project(db);
  REQUIRE(project.run(no_models(), {"init", project.versions()}).status == 0);
  REQUIRE(project.run(models_v1(), {"revision", "-m", "create", "--autogenerate"}).status == 0);
  const auto file = project.revision_files().at(0);
  const auto rev = migrate::parse_revision(read_text(file));

  CliResult r = project.run(models_v1(), {"stamp", "head"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(db.version_rows() == std::vector<std::string>{rev.id});
  CHECK(db.schema().empty());  // nothing of the revision ran
  REQUIRE(project.run(models_v1(), {"stamp", "base"}).status == 0);
  CHECK(db.version_rows().empty());
}

TEST_CASE("a command without a database URL or versions directory says what to pass", "[migrate]") {
  std::ostringstream out, err;
  migrate::CliEnvironment env;
  env.out = &out;
  env.err = &err;
  const std::string dir = temp_dir();
  int status = migrate::run({"--config", dir + "/none.ini", "current"}, models_v1(), env);
  CHECK(status == 1);
  CHECK(contains(err.str(), "init DIR"));

  std::ostringstream out2, err2;
  env.out = &out2;
  env.err = &err2;
  status = migrate::run({"frobnicate"}, models_v1(), env);
  CHECK(status == 2);
  CHECK(contains(err2.str(), "unknown command 'frobnicate'"));
}
