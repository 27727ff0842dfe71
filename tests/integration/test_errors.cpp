// Each error type is provoked for real and arrives classified, carrying what the server said.
#include <catch2/catch.hpp>

#include <corm/corm.hpp>

#include "support/test_db.hpp"

using namespace corm;

namespace {

struct Schema {
  std::string parents, children;
};

Schema make_schema(Connection& conn) {
  Schema s{quote_identifier(conn.dialect(), test::unique_name("parents")),
           quote_identifier(conn.dialect(), test::unique_name("children"))};
  conn.execute_script("CREATE TABLE " + s.parents +
                      " (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE, age INTEGER CHECK (age >= 0))");
  conn.execute_script("CREATE TABLE " + s.children + " (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES " +
                      s.parents + "(id))");
  conn.commit();
  return s;
}

}  // namespace

TEST_CASE("a duplicate key raises IntegrityError of kind unique", "[errors]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  auto s = make_schema(conn);
  conn.execute(text("INSERT INTO " + s.parents + " (id, email) VALUES (1, :e)"), {{"e", "a@x"}});
  try {
    conn.execute(text("INSERT INTO " + s.parents + " (id, email) VALUES (2, :e)"), {{"e", "a@x"}});
    FAIL("duplicate email must be refused");
  } catch (const IntegrityError& e) {
    CHECK(e.kind() == IntegrityKind::unique);
    CHECK(e.is_unique_violation());
    CHECK_THAT(e.statement(), Catch::Contains("INSERT INTO"));
    if (test::is_postgres()) CHECK(e.sqlstate() == "23505");
    else if (test::is_mysql()) CHECK(e.result_code() == 1062);  // ER_DUP_ENTRY
    else CHECK(e.result_code() == 2067);  // SQLITE_CONSTRAINT_UNIQUE
  }
}

TEST_CASE("a missing parent raises IntegrityError of kind foreign_key", "[errors]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  auto s = make_schema(conn);
  try {
    conn.execute(text("INSERT INTO " + s.children + " (id, parent_id) VALUES (1, 999)"), {});
    FAIL("orphan child must be refused");
  } catch (const IntegrityError& e) {
    CHECK(e.kind() == IntegrityKind::foreign_key);
  }
}

TEST_CASE("NOT NULL and CHECK violations are told apart", "[errors]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  auto s = make_schema(conn);
  auto tx = conn.begin_nested();
  try {
    conn.execute(text("INSERT INTO " + s.parents + " (id, email) VALUES (1, :e)"), {{"e", Value()}});
    FAIL("NULL email must be refused");
  } catch (const IntegrityError& e) {
    CHECK(e.kind() == IntegrityKind::not_null);
  }
  tx.rollback();
  try {
    conn.execute(text("INSERT INTO " + s.parents + " (id, email, age) VALUES (1, 'x', -1)"), {});
    FAIL("negative age must be refused");
  } catch (const IntegrityError& e) {
    CHECK(e.kind() == IntegrityKind::check);
  }
}

TEST_CASE("bad SQL raises ProgrammingError with the statement", "[errors]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  try {
    conn.execute(text("SELECT * FROM no_such_table_anywhere"), {});
    FAIL("unknown table must fail");
  } catch (const ProgrammingError& e) {
    CHECK(e.statement() == "SELECT * FROM no_such_table_anywhere");
    CHECK_THAT(std::string(e.what()), Catch::Contains("no_such_table_anywhere"));
  }
}

TEST_CASE("one() and one_or_none() say how many rows they found", "[errors]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  auto none = conn.execute(text("SELECT 1 WHERE 1 = 0"), {});
  CHECK_THROWS_AS(none.one(), NoResultFound);
  CHECK_FALSE(none.one_or_none().has_value());
  CHECK_FALSE(none.first().has_value());
  auto two = conn.execute(text("SELECT 1 UNION ALL SELECT 2"), {});
  CHECK_THROWS_AS(two.one(), MultipleResultsFound);
  CHECK_THROWS_AS(two.one_or_none(), MultipleResultsFound);
  CHECK(two.first()->get<int>(0) == 1);
}

TEST_CASE("text() with two statements is refused before reaching the database", "[errors][injection]") {
  auto engine = create_engine(test::database_url());
  auto conn = engine.connect();
  CHECK_THROWS_AS(conn.execute(text("SELECT 1; DROP TABLE x"), {}), UsageError);
}

TEST_CASE("an unknown URL scheme or option is a ConfigError that never shows the password", "[errors][config]") {
  try {
    create_engine("oracle://kim:s3cret@localhost/db");
    FAIL("oracle is not supported");
  } catch (const ConfigError& e) {
    CHECK_THAT(std::string(e.what()), !Catch::Contains("s3cret"));
    CHECK_THAT(std::string(e.what()), Catch::Contains("oracle"));
  }
  try {
    create_engine("mysql://kim:s3cret@localhost/db?colour=blue");
    FAIL("an unknown MySQL option must be refused");
  } catch (const ConfigError& e) {
    CHECK_THAT(std::string(e.what()), !Catch::Contains("s3cret"));
    CHECK_THAT(std::string(e.what()), Catch::Contains("colour"));
  }
  EngineOptions bad;
  bad.pool.pool_size = 0;
  bad.pool.max_overflow = 0;
  CHECK_THROWS_AS(create_engine(test::database_url(), bad), ConfigError);
}

TEST_CASE("a server message that quotes a bound value stays out of what() unless hide_parameters is off",
          "[errors][redaction]") {
  const std::string secret = "ann@example.com";
  for (bool hide : {true, false}) {
    EngineOptions opts;
    opts.connect.hide_parameters = hide;
    auto engine = create_engine(test::database_url(), opts);
    auto conn = engine.connect();
    const auto t = quote_identifier(conn.dialect(), test::unique_name("redacted"));
    // PostgreSQL quotes the text it could not read as an integer; a STRICT SQLite table refuses
    // the value by its type alone.
    conn.execute_script("CREATE TABLE " + t + " (id INTEGER PRIMARY KEY, n INTEGER)" +
                        (test::is_sqlite() ? " STRICT" : ""));
    // MySQL quotes the value too ("Incorrect integer value: '…'") and keeps it out of what()
    // whatever hide_parameters says.
    conn.commit();
    const auto sql = test::is_postgres() ? "INSERT INTO " + t + " (id, n) VALUES (1, CAST(CAST(:v AS TEXT) AS INTEGER))"
                                         : "INSERT INTO " + t + " (id, n) VALUES (1, :v)";
    try {
      conn.execute(text(sql), {{"v", secret}});
      FAIL("a text that is no integer must be refused");
    } catch (const DataError& e) {
      const std::string what = e.what();
      if (test::is_postgres()) {
        CHECK(e.sqlstate() == "22P02");
        CHECK_THAT(e.server_message(), Catch::Contains(secret));  // the full text stays reachable
        if (hide) {
          CHECK_THAT(what, !Catch::Contains(secret));
          CHECK_THAT(what, Catch::Contains("server_message()"));
        } else {
          CHECK_THAT(what, Catch::Contains(secret));
        }
      } else if (test::is_mysql()) {
        CHECK_THAT(e.server_message(), Catch::Contains(secret));
        CHECK_THAT(what, !Catch::Contains(secret));
      } else {
        CHECK_THAT(what, !Catch::Contains(secret));  // SQLite's messages never quote a bound value
      }
    }
    conn.rollback();
  }
}
