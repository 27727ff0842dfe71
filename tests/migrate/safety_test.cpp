// What keeps a migration safe: a failing revision leaves schema and version untouched, a
// branched chain is refused naming both heads, and --sql runs nothing.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <latch>
#include <thread>

#include "corm/migrate/migrator.hpp"
#include "corm/migrate/revision.hpp"
#include "corm/migrate/revision_chain.hpp"
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

TEST_CASE("two migrators upgrading one database at once apply each revision exactly once", "[migrate]") {
  // SQLite has one writer at a time and no server to coordinate two processes' DDL through; the
  // case is about PostgreSQL (LOCK TABLE on the version table) and MySQL (a session-level
  // GET_LOCK, since each DDL statement commits on its own there).
  if (!is_postgres() && !is_mysql()) return;
  FreshDatabase db;
  auto revision = [](std::string id, std::optional<std::string> parent, std::string up, std::string down) {
    migrate::Revision r;
    r.id = std::move(id);
    r.down_revision = std::move(parent);
    r.upgrade = std::move(up);
    r.downgrade = std::move(down);
    return r;
  };
  // Each revision creates a table (applied twice, the second CREATE would fail) and logs itself.
  const std::vector<migrate::Revision> revisions{
      revision("cc01", std::nullopt,
               "CREATE TABLE mig_log (id BIGINT NOT NULL PRIMARY KEY, rev VARCHAR(8) NOT NULL);\n"
               "INSERT INTO mig_log (id, rev) VALUES (1, 'cc01');\n",
               "DROP TABLE mig_log;\n"),
      revision("cc02", std::string("cc01"),
               "CREATE TABLE mig_second (id BIGINT NOT NULL PRIMARY KEY);\n"
               "INSERT INTO mig_log (id, rev) VALUES (2, 'cc02');\n",
               "DROP TABLE mig_second;\n")};
  if (is_postgres()) {
    // Two concurrent CREATE TABLE IF NOT EXISTS of the version table can collide in PostgreSQL's
    // catalog; the lock this case is about comes after it. MySQL takes its lock first.
    migrate::Migrator(create_engine(db.url()), migrate::RevisionChain(revisions)).stamp("base");
  }

  // Both migrators have read the current revision (base) before either takes the lock: the
  // start of the first revision is a rendezvous.
  std::latch both_started(2);
  std::string errors[2];
  std::vector<std::string> applied[2];
  auto migrate_once = [&](int i) {
    bool first = true;
    migrate::Migrator m(create_engine(db.url()), migrate::RevisionChain(revisions),
                        [&](const migrate::MigrationStep& step) {
                          if (step.phase == migrate::MigrationStep::Phase::started && first) {
                            first = false;
                            both_started.arrive_and_wait();
                          }
                          if (step.phase == migrate::MigrationStep::Phase::finished)
                            applied[i].push_back(step.revision->id);
                        });
    try {
      m.upgrade("head");
    } catch (const Error& e) {
      errors[i] = e.what();
    }
  };
  std::thread a(migrate_once, 0), b(migrate_once, 1);
  a.join();
  b.join();

  // One migrator applied both revisions; the other waited for the lock, found the revision
  // changed under it and stopped with a message saying so, having applied nothing.
  const int loser = errors[0].empty() ? 1 : 0;
  INFO("errors: [" << errors[0] << "] [" << errors[1] << "]");
  CHECK(errors[1 - loser].empty());
  CHECK(contains(errors[loser], "another migration ran at the same time"));
  CHECK(contains(errors[loser], "run the command again"));
  CHECK(applied[1 - loser] == std::vector<std::string>{"cc01", "cc02"});
  CHECK(applied[loser].empty());

  Connection c = db.engine().connect();
  CHECK(c.exec_driver_sql("SELECT rev FROM mig_log ORDER BY id").scalars<std::string>() ==
        std::vector<std::string>{"cc01", "cc02"});
  c.rollback();
  CHECK(db.version_rows() == std::vector<std::string>{"cc02"});
}
