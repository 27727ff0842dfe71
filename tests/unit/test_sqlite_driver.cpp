// The SQLite driver on its own, below the engine: binding, reading, the statement cache and the
// mapping of SQLite's extended result codes to corm's exceptions.
#include <catch2/catch.hpp>

#include <fstream>
#include <limits>

#include "corm/core/error.hpp"
#include "corm/core/result.hpp"
#include "driver/sqlite/sqlite_connection.hpp"
#include "support/test_db.hpp"

using namespace std::chrono;
using corm::Result;
using corm::Value;
using corm::driver::ConnectOptions;
using corm::driver::Connection;
using Catch::Matchers::Contains;

namespace {

std::unique_ptr<Connection> open(const std::string& url = "sqlite://", const ConnectOptions& o = {}) {
  return corm::driver::sqlite::connect(corm::Url::parse(url), o);
}

std::string file_url() { return "sqlite:///" + corm::test::temp_dir() + "/test.db"; }

Result run(Connection& c, std::string_view sql, std::vector<Value> params = {}) {
  return Result(c.execute(sql, params));
}

// Runs `sql` expecting exception E and returns it.
template <class E>
E expect_error(Connection& c, std::string_view sql, std::vector<Value> params = {}) {
  try {
    c.execute(sql, params);
  } catch (const E& e) {
    return e;
  }
  FAIL("expected an exception from " << sql);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("sqlite driver round-trips every bindable type and NULL", "[sqlite]") {
  auto c = open();
  c->execute_script(
      "CREATE TABLE t (b INTEGER, i INTEGER, d REAL, s TEXT, by BLOB, ts TEXT, dt TEXT, dec TEXT, u TEXT, j TEXT)");
  const corm::Timestamp ts = sys_days{2024y / 3 / 1} + 12h + 34min + 56s + 123456us;
  const corm::Date dt = sys_days{2024y / 2 / 29};
  const corm::Uuid u("123e4567-e89b-12d3-a456-426614174000");
  const corm::Bytes bytes{std::byte{0}, std::byte{1}, std::byte{0xff}};
  auto r = run(*c, "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
               {true, std::int64_t{42}, 2.5, "text", bytes, ts, dt, corm::Decimal("-12.3400"), u,
                corm::Json{"{\"a\":[1,2]}"}});
  CHECK(r.rowcount() == 1);
  run(*c, "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      std::vector<Value>(10, corm::Null{}));

  const auto rows = run(*c, "SELECT b, i, d, s, by, ts, dt, dec, u, j FROM t ORDER BY rowid");
  REQUIRE(rows.size() == 2);
  const auto row = rows.at(0);
  CHECK(row.get<bool>(0));
  CHECK(row.get<std::int64_t>("i") == 42);
  CHECK(row.get<double>("d") == 2.5);
  CHECK(row.get<std::string>("s") == "text");
  CHECK(row.get<corm::Bytes>("by") == bytes);
  CHECK(row.get<corm::Timestamp>("ts") == ts);
  CHECK(row.get<std::string>("ts") == "2024-03-01 12:34:56.123456");
  CHECK(row.get<corm::Date>("dt") == dt);
  CHECK(row.get<std::string>("dt") == "2024-02-29");
  CHECK(row.get<corm::Decimal>("dec").str() == "-12.3400");
  CHECK(row.get<corm::Uuid>("u") == u);
  CHECK(row.get<std::string>("u") == "123e4567-e89b-12d3-a456-426614174000");
  CHECK(row.get<corm::Json>("j").text == "{\"a\":[1,2]}");

  const auto nulls = rows.at(1);
  for (std::size_t i = 0; i < 10; ++i) CHECK(nulls.is_null(i));
  CHECK(nulls.get<std::optional<std::int64_t>>(1) == std::nullopt);
  CHECK_THROWS_WITH(nulls.get<std::int64_t>(1), Contains("column \"i\"") && Contains("NULL"));
}

TEST_CASE("sqlite driver keeps int64 limits and reports column types as SQLite stored them", "[sqlite]") {
  auto c = open();
  const auto lo = std::numeric_limits<std::int64_t>::min();
  const auto hi = std::numeric_limits<std::int64_t>::max();
  const auto r = run(*c, "SELECT ?1, ?2, typeof(?1), ?3", {lo, hi, 1.0});
  CHECK(r.at(0).get<std::int64_t>(0) == lo);
  CHECK(r.at(0).get<std::int64_t>(1) == hi);
  CHECK(r.at(0).get<std::string>(2) == "integer");
  CHECK(r.at(0).cell(3).kind == corm::Cell::Kind::real);
  CHECK_THROWS_WITH(r.at(0).get<std::int32_t>(1), Contains("does not fit in int32"));
}

TEST_CASE("sqlite driver stores blobs with NUL bytes, empty values and unicode text verbatim", "[sqlite]") {
  auto c = open();
  c->execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB)");
  corm::Bytes nul_blob(256);
  for (std::size_t i = 0; i < nul_blob.size(); ++i) nul_blob[i] = static_cast<std::byte>(i);
  const std::string unicode = "Grüße, 世界 🌍 \xe2\x80\x8b";
  const std::string with_nul("a\0b", 3);
  run(*c, "INSERT INTO t (s, b) VALUES (?1, ?2)", {unicode, nul_blob});
  run(*c, "INSERT INTO t (s, b) VALUES (?1, ?2)", {"", corm::Bytes{}});
  run(*c, "INSERT INTO t (s, b) VALUES (?1, ?2)", {with_nul, corm::Null{}});
  const auto r = run(*c, "SELECT s, b, length(b) FROM t ORDER BY id");
  CHECK(r.at(0).get<std::string>(0) == unicode);
  CHECK(r.at(0).get<corm::Bytes>(1) == nul_blob);
  CHECK(r.at(1).get<std::string>(0).empty());
  CHECK_FALSE(r.at(1).is_null(0));
  CHECK(r.at(1).get<corm::Bytes>(1).empty());
  CHECK_FALSE(r.at(1).is_null(1));  // an empty blob is not NULL
  CHECK(r.at(2).get<std::string>(0) == with_nul);
}

TEST_CASE("sqlite driver stores hostile strings verbatim and never runs them", "[sqlite]") {
  auto c = open();
  c->execute_script("CREATE TABLE t (s TEXT)");
  const std::vector<std::string> hostile{"'); DROP TABLE t; --", "\"; DELETE FROM t; --", "?1 :name $1 @x",
                                         "Robert'); DROP TABLE students;--"};
  for (const auto& h : hostile) run(*c, "INSERT INTO t VALUES (?1)", {h});
  const auto back = run(*c, "SELECT s FROM t ORDER BY rowid").scalars<std::string>();
  CHECK(back == hostile);
  CHECK(run(*c, "SELECT count(*) FROM sqlite_schema WHERE name = 't'").scalar_one<int>() == 1);
}

TEST_CASE("sqlite driver reuses cached statements and still returns the right rows", "[sqlite][cache]") {
  auto c = open();
  c->execute_script("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)");
  const std::string sql = "SELECT x FROM t WHERE x >= ?1 ORDER BY x";
  CHECK(run(*c, sql, {2}).scalars<int>() == std::vector<int>{2, 3});
  CHECK(run(*c, sql, {1}).scalars<int>() == std::vector<int>{1, 2, 3});
  CHECK(run(*c, sql, {9}).empty());
  // sqlite_stmt lists this connection's live prepared statements and how often each ran.
  CHECK(run(*c, "SELECT run FROM sqlite_stmt WHERE sql = ?1", {sql}).scalar_one<int>() == 3);
}

TEST_CASE("sqlite driver re-prepares a cached statement after the schema changes", "[sqlite][cache]") {
  auto c = open();
  c->execute_script("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1)");
  CHECK(run(*c, "SELECT * FROM t").columns() == std::vector<std::string>{"a"});
  c->execute_script("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'");
  const auto r = run(*c, "SELECT * FROM t");
  CHECK(r.columns() == std::vector<std::string>{"a", "b"});
  CHECK(r.at(0).get<std::string>(1) == "x");
}

TEST_CASE("sqlite driver with statement cache size 0 prepares every time and keeps nothing", "[sqlite][cache]") {
  ConnectOptions o;
  o.statement_cache_size = 0;
  auto c = open("sqlite://", o);
  const std::string sql = "SELECT ?1 + 1";
  CHECK(run(*c, sql, {1}).scalar_one<int>() == 2);
  CHECK(run(*c, sql, {2}).scalar_one<int>() == 3);
  CHECK(run(*c, "SELECT count(*) FROM sqlite_stmt WHERE sql = ?1", {sql}).scalar_one<int>() == 0);
}

TEST_CASE("sqlite driver evicts the least recently used statement beyond capacity", "[sqlite][cache]") {
  ConnectOptions o;
  o.statement_cache_size = 3;
  auto c = open("sqlite://", o);
  run(*c, "SELECT 1");
  run(*c, "SELECT 2");
  run(*c, "SELECT 1");  // now more recent than "SELECT 2"
  run(*c, "SELECT 3");
  // The query below is the fourth statement: caching it evicts the least recently used one.
  const auto live = run(*c, "SELECT sql FROM sqlite_stmt WHERE sql LIKE 'SELECT _' ORDER BY sql").scalars<std::string>();
  CHECK(live == std::vector<std::string>{"SELECT 1", "SELECT 3"});
  CHECK(run(*c, "SELECT 2").scalar_one<int>() == 2);
}

TEST_CASE("sqlite driver reports rowcount for DML only", "[sqlite]") {
  auto c = open();
  c->execute_script("CREATE TABLE t (x INTEGER)");
  CHECK(run(*c, "INSERT INTO t VALUES (1), (2), (3)").rowcount() == 3);
  CHECK(run(*c, "UPDATE t SET x = x + 10 WHERE x > 1").rowcount() == 2);
  CHECK(run(*c, "CREATE TABLE u (y INTEGER)").rowcount() == -1);  // not the stale 2
  CHECK(run(*c, "SELECT * FROM t").rowcount() == -1);
  CHECK(run(*c, "DELETE FROM t WHERE x = 99").rowcount() == 0);
  const auto ret = run(*c, "INSERT INTO t VALUES (7), (8) RETURNING x");
  CHECK(ret.scalars<int>() == std::vector<int>{7, 8});
  CHECK(ret.rowcount() == 2);
  CHECK(run(*c, "DELETE FROM t").rowcount() == 5);
}

TEST_CASE("sqlite driver maps each constraint failure to IntegrityError with kind, table and column",
          "[sqlite][errors]") {
  auto c = open();
  c->execute_script(R"(
    CREATE TABLE authors (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
    CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id),
                        pages INTEGER CONSTRAINT pages_positive CHECK (pages > 0),
                        a TEXT, b TEXT, UNIQUE (a, b));
    INSERT INTO authors VALUES (1, 'k@example.com');
    INSERT INTO books (id, author_id, pages, a, b) VALUES (1, 1, 10, 'x', 'y');
  )");

  const std::string dup = "INSERT INTO authors (email) VALUES (?1)";
  auto unique = expect_error<corm::IntegrityError>(*c, dup, {"k@example.com"});
  CHECK(unique.kind() == corm::IntegrityKind::unique);
  CHECK(unique.is_unique_violation());
  CHECK(unique.table() == "authors");
  CHECK(unique.column() == "email");
  CHECK(unique.result_code() == 2067);  // SQLITE_CONSTRAINT_UNIQUE
  CHECK(unique.statement() == dup);
  CHECK(unique.server_message() == "UNIQUE constraint failed: authors.email");
  CHECK(std::string(unique.what()) == "unique constraint violated (UNIQUE constraint failed: authors.email)");
  CHECK(std::string(unique.what()).find("k@example.com") == std::string::npos);

  auto pk = expect_error<corm::IntegrityError>(*c, "INSERT INTO authors VALUES (1, 'other')");
  CHECK(pk.kind() == corm::IntegrityKind::unique);
  CHECK(pk.table() == "authors");
  CHECK(pk.column() == "id");

  auto composite = expect_error<corm::IntegrityError>(*c, "INSERT INTO books (a, b) VALUES ('x', 'y')");
  CHECK(composite.kind() == corm::IntegrityKind::unique);
  CHECK(composite.table() == "books");
  CHECK(composite.column() == "a, b");

  auto not_null = expect_error<corm::IntegrityError>(*c, "INSERT INTO authors (email) VALUES (NULL)");
  CHECK(not_null.kind() == corm::IntegrityKind::not_null);
  CHECK(not_null.table() == "authors");
  CHECK(not_null.column() == "email");

  auto check = expect_error<corm::IntegrityError>(*c, "INSERT INTO books (pages) VALUES (0)");
  CHECK(check.kind() == corm::IntegrityKind::check);
  CHECK(check.constraint() == "pages_positive");

  auto fk = expect_error<corm::IntegrityError>(*c, "INSERT INTO books (author_id) VALUES (99)");
  CHECK(fk.kind() == corm::IntegrityKind::foreign_key);
  CHECK(fk.is_foreign_key_violation());
  CHECK_THAT(fk.what(), Contains("foreign key"));
}

TEST_CASE("sqlite driver leaves foreign keys unenforced when sqlite_foreign_keys is off", "[sqlite]") {
  ConnectOptions o;
  o.sqlite_foreign_keys = false;
  auto c = open("sqlite://", o);
  c->execute_script("CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (a_id INTEGER REFERENCES a(id))");
  CHECK_NOTHROW(run(*c, "INSERT INTO b VALUES (42)"));
  CHECK(run(*open(), "PRAGMA foreign_keys").scalar_one<int>() == 1);
}

TEST_CASE("sqlite driver reports SQL errors as ProgrammingError with the statement", "[sqlite][errors]") {
  auto c = open();
  auto syntax = expect_error<corm::ProgrammingError>(*c, "SELEC 1");
  CHECK(syntax.statement() == "SELEC 1");
  CHECK_THAT(syntax.server_message(), Contains("syntax error"));
  auto missing = expect_error<corm::ProgrammingError>(*c, "SELECT * FROM nowhere WHERE x = ?1", {"secret-param"});
  CHECK_THAT(missing.what(), Contains("no such table: nowhere"));
  CHECK(std::string(missing.what()).find("secret-param") == std::string::npos);
  CHECK(missing.statement().find("secret-param") == std::string::npos);
}

TEST_CASE("sqlite driver rejects a second statement but accepts a trailing comment", "[sqlite][errors]") {
  auto c = open();
  c->execute_script("CREATE TABLE t (x INTEGER)");
  CHECK_THROWS_AS(c->execute("INSERT INTO t VALUES (1); DROP TABLE t", {}), corm::UsageError);
  CHECK_THROWS_WITH(c->execute("SELECT 1; SELECT 2", {}), Contains("more than one statement") && Contains("execute_script"));
  CHECK(run(*c, "SELECT count(*) FROM t").scalar_one<int>() == 0);  // nothing ran
  CHECK(run(*c, "SELECT 5; -- done").scalar_one<int>() == 5);
  CHECK(run(*c, "SELECT 6 /* done */ ;  ").scalar_one<int>() == 6);
  CHECK_THROWS_AS(c->execute("  -- nothing", {}), corm::UsageError);
}

TEST_CASE("sqlite driver checks the number of parameters and refuses arrays and NaN", "[sqlite][errors]") {
  auto c = open();
  CHECK_THROWS_WITH(c->execute("SELECT ?1, ?2", std::vector<Value>{1}), Contains("2 parameter") && Contains("1 value"));
  CHECK_THROWS_AS(c->execute("SELECT 1", std::vector<Value>{1}), corm::UsageError);
  CHECK_THROWS_WITH(c->execute("SELECT ?1", std::vector<Value>{corm::Array{{1, 2}}}), Contains("arrays are PostgreSQL-only"));
  CHECK_THROWS_AS(c->execute("SELECT ?1", std::vector<Value>{std::numeric_limits<double>::quiet_NaN()}), corm::DataError);
  CHECK(run(*c, "SELECT ?1", {7}).scalar_one<int>() == 7);  // the failed binds left nothing behind
}

TEST_CASE("sqlite driver reports in_transaction after BEGIN until COMMIT or ROLLBACK", "[sqlite]") {
  auto c = open();
  CHECK_FALSE(c->in_transaction());
  run(*c, "BEGIN");
  CHECK(c->in_transaction());
  run(*c, "COMMIT");
  CHECK_FALSE(c->in_transaction());
  c->execute_script("BEGIN IMMEDIATE");
  CHECK(c->in_transaction());
  run(*c, "ROLLBACK");
  CHECK_FALSE(c->in_transaction());
}

TEST_CASE("sqlite driver runs scripts and maps their errors", "[sqlite]") {
  auto c = open();
  c->execute_script("CREATE TABLE t (x INTEGER UNIQUE); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);");
  CHECK(run(*c, "SELECT count(*) FROM t").scalar_one<int>() == 2);
  CHECK_THROWS_AS(c->execute_script("INSERT INTO t VALUES (3); INSERT INTO t VALUES (1)"), corm::IntegrityError);
  CHECK_THROWS_AS(c->execute_script("CREATE TABL oops"), corm::ProgrammingError);
}

TEST_CASE("sqlite driver opens file databases in WAL mode with foreign keys on", "[sqlite]") {
  const auto url = file_url();
  auto c = open(url);
  CHECK(run(*c, "PRAGMA journal_mode").scalar_one<std::string>() == "wal");
  CHECK(run(*c, "PRAGMA foreign_keys").scalar_one<int>() == 1);
  c->execute_script("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
  c->close();
  CHECK(run(*open(url), "SELECT x FROM t").scalar_one<int>() == 1);
  ConnectOptions o;
  o.sqlite_wal = false;
  CHECK(run(*open(file_url(), o), "PRAGMA journal_mode").scalar_one<std::string>() == "delete");
}

TEST_CASE("sqlite driver reports a locked database with advice on busy_timeout", "[sqlite][errors]") {
  const auto url = file_url();
  ConnectOptions o;
  o.sqlite_busy_timeout = milliseconds{50};
  auto writer = open(url, o);
  auto other = open(url, o);
  writer->execute_script("CREATE TABLE t (x INTEGER)");
  writer->execute_script("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)");
  auto e = expect_error<corm::OperationalError>(*other, "INSERT INTO t VALUES (2)");
  CHECK_THAT(e.what(), Contains("sqlite_busy_timeout (50 ms)") && Contains("fewer concurrent writers"));
  CHECK((e.result_code() & 0xFF) == 5);  // SQLITE_BUSY
  CHECK_FALSE(e.is_retryable());
  writer->execute_script("COMMIT");
  CHECK(run(*other, "INSERT INTO t VALUES (2)").rowcount() == 1);
}

TEST_CASE("sqlite driver cancels a statement that outlives statement_timeout", "[sqlite][errors]") {
  ConnectOptions o;
  o.statement_timeout = milliseconds{50};
  auto c = open("sqlite://", o);
  const auto start = steady_clock::now();
  CHECK_THROWS_AS(c->execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                             "SELECT count(*) FROM n",
                             {}),
                  corm::QueryCanceled);
  CHECK(steady_clock::now() - start < seconds{5});
  CHECK(run(*c, "SELECT 1").scalar_one<int>() == 1);  // the connection is still usable
}

TEST_CASE("sqlite driver refuses to open a file that is not a database", "[sqlite][errors]") {
  const auto path = corm::test::temp_dir() + "/junk.db";
  std::ofstream(path) << std::string(4096, 'x');
  try {
    open("sqlite:///" + path);
    FAIL("expected ConnectError");
  } catch (const corm::ConnectError& e) {
    CHECK_THAT(e.what(), Contains("cannot open the SQLite database") && Contains("junk.db"));
    CHECK((e.result_code() & 0xFF) == 26);  // SQLITE_NOTADB
  }
  CHECK_THROWS_AS(open("sqlite:///" + corm::test::temp_dir() + "/missing.db?mode=ro"), corm::ConnectError);
  CHECK_THROWS_AS(open("sqlite:////nonexistent-dir/x/y.db"), corm::ConnectError);
}

TEST_CASE("sqlite driver honours mode=ro and reports writes as OperationalError", "[sqlite]") {
  const auto url = file_url();
  open(url)->execute_script("CREATE TABLE t (x INTEGER)");
  auto ro = open(url + "?mode=ro");
  CHECK(run(*ro, "SELECT count(*) FROM t").scalar_one<int>() == 0);
  CHECK_THROWS_AS(ro->execute("INSERT INTO t VALUES (1)", {}), corm::OperationalError);
}

TEST_CASE("sqlite driver validation lists the accepted URL options", "[sqlite]") {
  const ConnectOptions o;
  CHECK_NOTHROW(corm::driver::sqlite::validate(corm::Url::parse("sqlite:///a.db?mode=ro&cache=shared"), o));
  CHECK_THROWS_WITH(corm::driver::sqlite::validate(corm::Url::parse("sqlite:///a.db?journal=wal"), o),
                    Contains("'journal'") && Contains("mode=ro|rw|rwc|memory") && Contains("cache=shared|private"));
  CHECK_THROWS_AS(corm::driver::sqlite::validate(corm::Url::parse("sqlite:///a.db?mode=fast"), o), corm::ConfigError);
  CHECK_THROWS_AS(corm::driver::sqlite::validate(corm::Url::parse("postgresql://h/db"), o), corm::ConfigError);
  ConnectOptions bad;
  bad.sqlite_busy_timeout = milliseconds{-1};
  CHECK_THROWS_AS(corm::driver::sqlite::validate(corm::Url::parse("sqlite://"), bad), corm::ConfigError);
}

TEST_CASE("sqlite driver ping, close and the closed state", "[sqlite]") {
  auto c = open();
  CHECK(c->dialect() == corm::Dialect::sqlite);
  CHECK(c->backend_pid() == 0);
  CHECK(c->ping());
  CHECK_FALSE(c->is_broken());
  c->close();
  c->close();  // idempotent
  CHECK(c->is_broken());
  CHECK_FALSE(c->ping());
  CHECK_FALSE(c->in_transaction());
  CHECK_THROWS_AS(c->execute("SELECT 1", {}), corm::UsageError);
}
