// Reliability faults 11-13: an injection corpus in every string position, NULLs that must never
// turn into 0 / "" / the previous row's value, and malformed configuration that fails before any
// network I/O without ever showing the password.

// Not on MySQL: its corpus and messages are written for PostgreSQL's and SQLite's parameter spellings and
// errors; MySQL's bad-input cases (NULLs, values that must round-trip, error classes) are in tests/mysql.
#if !defined(CORM_TEST_BACKEND_MYSQL)

#include <algorithm>
#include <cctype>
#include <mutex>

#include "fault/fault_support.hpp"
#include "support/fault_proxy.hpp"

using namespace corm;
using namespace corm::fault;
using test::FaultProxy;

namespace {

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c = {
      "'",
      "''",
      "\"",
      "'; DROP TABLE fault_items; --",
      "\"; DROP TABLE fault_items; --",
      "Robert'); DROP TABLE fault_items;--",
      "' OR '1'='1",
      "\" OR \"\"=\"",
      "1; DELETE FROM fault_items",
      "x' UNION SELECT name FROM fault_items --",
      "%",
      "_",
      "%_%",
      "100%",
      "a_b",
      "\\",
      "\\%",
      "a\\_b",
      "$1",
      "?1",
      ":n",
      "@p",
      "/* comment */",
      "-- comment",
      "E'\\x27'",
      "$$; DROP TABLE fault_items; $$",
      "\n\r\t",
      "ünïcødé ✓",
      "𝔘𝔫𝔦",
      "COMMIT; DROP TABLE fault_items",
      std::string(5000, '\''),
  };
  return c;
}

std::string ascii_lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// How many corpus entries the LIKE helpers must match (SQLite's LIKE ignores ASCII case).
std::size_t expected_matches(const std::string& p, int where) {  // 0 contains, 1 startswith, 2 endswith
  std::size_t n = 0;
  for (const auto& raw : corpus()) {
    const std::string e = test::is_sqlite() ? ascii_lower(raw) : raw;
    const std::string q = test::is_sqlite() ? ascii_lower(p) : p;
    bool m = false;
    if (where == 0) m = e.find(q) != std::string::npos;
    if (where == 1) m = e.rfind(q, 0) == 0;
    if (where == 2) m = e.size() >= q.size() && e.compare(e.size() - q.size(), q.size(), q) == 0;
    n += m;
  }
  return n;
}

std::int64_t user_tables(Connection& c) {
  if (test::is_postgres())
    return c.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one<std::int64_t>();
  return c.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
      .scalar_one<std::int64_t>();
}

}  // namespace

// --- case 11 ---------------------------------------------------------------------------------

TEST_CASE("fault 11: an injection corpus in every string position leaves every table intact", "[fault][injection]") {
  Watchdog dog(120s, "injection corpus");
  FaultDb db;
  db.create<FItem>();
  Engine engine = create_engine(db.url());
  const auto& c = corpus();
  {
    // Values.
    Session s(engine);
    std::int64_t id = 0;
    for (const auto& p : c) {
      auto it = std::make_shared<FItem>();
      it->id = ++id;
      it->name = p;
      s.add(it);
    }
    s.commit();
    s.close();
  }
  Connection conn = engine.connect();
  const auto tables_before = user_tables(conn);
  CHECK(tables_before == 1);
  {
    Session s(engine);
    auto all = s.scalars(select<FItem>().order_by(col(&FItem::id)));
    REQUIRE(all.size() == c.size());
    for (std::size_t i = 0; i < c.size(); ++i) CHECK(all[i]->name == c[i]);  // stored verbatim
    // in_ lists: the whole corpus, and each entry alone.
    CHECK(s.scalars(select<FItem>().where(col(&FItem::name).in_(c))).size() == c.size());
    for (const auto& p : c) {
      std::vector<std::string> one{p};
      INFO("payload: " << p.substr(0, 60));
      CHECK(s.scalars(select<FItem>().where(col(&FItem::name).in_(one))).size() == 1);
      CHECK(s.scalars(select<FItem>().where(col(&FItem::name).not_in(one))).size() == c.size() - 1);
      // LIKE helpers match literally: % _ and \ are escaped.
      CHECK(s.scalars(select<FItem>().where(col(&FItem::name).contains(p))).size() == expected_matches(p, 0));
      CHECK(s.scalars(select<FItem>().where(col(&FItem::name).startswith(p))).size() == expected_matches(p, 1));
      CHECK(s.scalars(select<FItem>().where(col(&FItem::name).endswith(p))).size() == expected_matches(p, 2));
      // text() binds.
      CHECK(conn.execute(text("SELECT count(*) FROM fault_items WHERE name = :n").bind("n", p))
                .scalar_one<std::int64_t>() == 1);
      // ORDER BY from user input: only mapped names pass the allow-list.
      CHECK_THROWS_AS(order_by_name<FItem>(p), ConfigError);
    }
    s.close();
  }
  conn.rollback();
  // ORDER BY through the allow-list and typed columns.
  {
    Session s(engine);
    auto by_name = s.scalars(select<FItem>().order_by(order_by_name<FItem>("name", Direction::desc)));
    CHECK(by_name.size() == c.size());
    auto by_id = s.scalars(select<FItem>().order_by(desc(&FItem::id)));
    REQUIRE(by_id.size() == c.size());
    CHECK(by_id.front()->id == static_cast<std::int64_t>(c.size()));
    CHECK_THROWS_AS(order_by_name<FItem>("name; DROP TABLE fault_items"), ConfigError);
    CHECK_THROWS_AS(order_by_name<FItem>("id DESC"), ConfigError);
    CHECK_THROWS_AS(order_by_name<FItem>("(SELECT 1)"), ConfigError);
    s.close();
  }
  // Identifiers through the quoting API: each payload names a table and a column.
  int made = 0;
  for (const auto& p : c) {
    if (p.size() > 60) continue;  // PostgreSQL truncates identifiers at 63 bytes
    const auto t = quote_identifier(engine.dialect(), "t " + p);
    const auto col_name = quote_identifier(engine.dialect(), p);
    INFO("identifier: " << p);
    conn.exec_driver_sql("CREATE TABLE " + t + " (" + col_name + " TEXT)");
    conn.execute(text("INSERT INTO " + t + " (" + col_name + ") VALUES (:v)").bind("v", p));
    CHECK(conn.exec_driver_sql("SELECT " + col_name + " FROM " + t).scalar_one<std::string>() == p);
    conn.exec_driver_sql("DROP TABLE " + t);
    ++made;
  }
  conn.commit();
  CHECK(made > 20);
  CHECK_THROWS_AS(quote_identifier(engine.dialect(), ""), ConfigError);
  CHECK_THROWS_AS(quote_identifier(engine.dialect(), std::string("a\0b", 3)), ConfigError);
  // A two-statement text() is rejected before it reaches the database; one with a ';' inside a
  // literal is one statement.
  CHECK_THROWS_AS(conn.execute(text("SELECT 1; DROP TABLE fault_items")), UsageError);
  CHECK_THROWS_AS(conn.execute(text("SELECT :a; DROP TABLE fault_items").bind("a", 1)), UsageError);
  CHECK(conn.execute(text("SELECT ';' AS x")).scalar_one<std::string>() == ";");
  conn.rollback();
  // Every table is intact.
  CHECK(user_tables(conn) == tables_before);
  CHECK(conn.execute(text("SELECT count(*) FROM fault_items")).scalar_one<std::int64_t>() ==
        static_cast<std::int64_t>(c.size()));
  conn.rollback();
}

// --- case 12 ---------------------------------------------------------------------------------

TEST_CASE("fault 12: NULL into a non-optional field names table.column, nullopt into NOT NULL is an IntegrityError",
          "[fault][null]") {
  Watchdog dog(60s, "nulls");
  FaultDb db;
  db.exec("CREATE TABLE fault_strict (id BIGINT PRIMARY KEY, qty BIGINT, label TEXT)");
  db.exec("INSERT INTO fault_strict VALUES (1, 5, 'first'), (2, NULL, 'second'), (3, 7, NULL)");
  db.exec("CREATE TABLE fault_loose (id BIGINT PRIMARY KEY, qty BIGINT NOT NULL)");
  Engine engine = create_engine(db.url());

  auto expect_named = [](const std::function<void()>& f, const std::string& column) {
    try {
      f();
      FAIL_CHECK("NULL was read into a non-optional field without an error (column " << column << ")");
    } catch (const DataError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains(column));
    } catch (const std::exception& e) {
      FAIL_CHECK("expected DataError naming " << column << ", got: " << e.what());
    }
  };
  {
    // Loading all rows: row 2's NULL qty must not become 0 or row 1's 5.
    Session s(engine);
    expect_named([&] { (void)s.scalars(select<FStrict>().order_by(col(&FStrict::id))); }, "fault_strict.qty");
    s.close();
  }
  {
    Session s(engine);
    expect_named([&] { (void)s.get<FStrict>(std::int64_t{2}); }, "fault_strict.qty");
    s.close();
  }
  {
    Session s(engine);
    expect_named([&] { (void)s.get<FStrict>(std::int64_t{3}); }, "fault_strict.label");
    s.close();
  }
  {
    Connection c = engine.connect();
    expect_named(
        [&] {
          auto r = c.execute(select(col(&FStrict::qty)).where(col(&FStrict::id) == std::int64_t{2}));
          (void)r.scalar_one<std::int64_t>();
        },
        "qty");
    c.rollback();
  }
  {
    // The rows that are fine still load.
    Session s(engine);
    auto one = s.get<FStrict>(std::int64_t{1});
    REQUIRE(one);
    CHECK(one->qty == 5);
    CHECK(one->label == "first");
    s.close();
  }
  {
    // nullopt into NOT NULL.
    Session s(engine);
    auto l = std::make_shared<FLoose>();
    l->id = 1;
    s.add(l);
    try {
      s.flush();
      FAIL_CHECK("nullopt into a NOT NULL column was accepted");
    } catch (const IntegrityError& e) {
      CHECK(e.kind() == IntegrityKind::not_null);
      CHECK(e.column() == "qty");
      CHECK_THAT(std::string(e.what()), Catch::Contains("qty"));
    }
    s.rollback();
    s.close();
  }
}

// --- case 13 ---------------------------------------------------------------------------------

TEST_CASE("fault 13: malformed URLs and options raise ConfigError with no network I/O and never show the password",
          "[fault][config]") {
  Watchdog dog(60s, "config");
  const std::string pw = "s3cr3t-Pw0rd";
  // A listener that counts connection attempts: nothing may reach it.
  auto proxy = FaultProxy::for_url(test::is_postgres() ? test::pg_url() : "postgresql://127.0.0.1:9/x");
  const std::string hp = "127.0.0.1:" + std::to_string(proxy->port());
  const std::vector<std::string> bad_urls = {
      "postgresql://kim:" + pw + "@" + hp + "/db?no_such_option=1",
      "postgresql://kim:" + pw + "@127.0.0.1:99999/db",
      "postgresql://kim:" + pw + "@[" + hp + "/db",
      "oracle://kim:" + pw + "@" + hp + "/db",  // a database corm does not speak
      "kim:" + pw + "@" + hp + "/db",
      "postgresql//kim:" + pw + "@" + hp + "/db",
      "",
      "sqlite://kim:" + pw + "@" + hp + "/x.db",
  };
  asio::io_context io;
  for (const auto& u : bad_urls) {
    INFO("malformed URL case " << (&u - bad_urls.data()));
    try {
      (void)create_engine(u);
      FAIL_CHECK("accepted a malformed URL (sync), case " << (&u - bad_urls.data()));
    } catch (const ConfigError& e) {
      CHECK_THAT(std::string(e.what()), !Catch::Contains(pw));
    } catch (const std::exception& e) {
      FAIL_CHECK("not a ConfigError: " << e.what());
    }
    try {
      (void)create_async_engine(io.get_executor(), u);
      FAIL_CHECK("accepted a malformed URL (async), case " << (&u - bad_urls.data()));
    } catch (const ConfigError& e) {
      CHECK_THAT(std::string(e.what()), !Catch::Contains(pw));
    } catch (const std::exception& e) {
      FAIL_CHECK("not a ConfigError: " << e.what());
    }
  }
  const std::string good = "postgresql://kim:" + pw + "@" + hp + "/db";
  std::vector<std::pair<std::string, EngineOptions>> bad_options;
  {
    EngineOptions o;
    o.pool.pool_size = 0;
    o.pool.max_overflow = 0;
    bad_options.emplace_back("no connections at all", o);
  }
  {
    EngineOptions o;
    o.pool.pool_timeout = -1s;
    bad_options.emplace_back("negative pool_timeout", o);
  }
  {
    EngineOptions o;
    o.connect.connect_timeout = -5s;
    bad_options.emplace_back("negative connect_timeout", o);
  }
  {
    EngineOptions o;
    o.connect.statement_timeout = -1ms;
    bad_options.emplace_back("negative statement_timeout", o);
  }
  {
    EngineOptions o;
    o.command_timeout = -1ms;
    bad_options.emplace_back("negative command_timeout", o);
  }
  for (auto& [what, o] : bad_options) {
    INFO("options: " << what);
    for (const std::string& u : {good, std::string("sqlite:///") + test::temp_dir() + "/c.db"}) {
      try {
        (void)create_engine(u, o);
        FAIL_CHECK("accepted " << what);
      } catch (const ConfigError& e) {
        CHECK_THAT(std::string(e.what()), !Catch::Contains(pw));
      } catch (const std::exception& e) {
        FAIL_CHECK("not a ConfigError: " << e.what());
      }
    }
  }
  {
    EngineOptions o;
    o.connect.sqlite_busy_timeout = -1ms;
    CHECK_THROWS_AS(create_engine(std::string("sqlite:///") + test::temp_dir() + "/d.db", o), ConfigError);
  }
  CHECK(proxy->accepted() == 0);  // no network I/O for any of them

  // A failing connection with a password, echo on: the password is in no message and no log line.
  std::mutex mu;
  std::vector<std::string> lines;
  EngineOptions echo;
  echo.echo = true;
  echo.log = [&](LogLevel, std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  };
  echo.connect.connect_timeout = 2s;
  proxy->set_mode(FaultProxy::Mode::reset);
  {
    Engine e = create_engine(good, echo);
    CHECK_THAT(e.url().str(), !Catch::Contains(pw));
    try {
      (void)e.connect();
      FAIL_CHECK("connected through a resetting proxy");
    } catch (const ConnectError& ce) {
      CHECK_THAT(std::string(ce.what()), !Catch::Contains(pw));
      CHECK_THAT(ce.server_message(), !Catch::Contains(pw));
    }
  }
  CHECK(proxy->accepted() > 0);
  proxy->set_mode(FaultProxy::Mode::pass);
  // Echo hides parameter values unless asked, on the async front too.
  const std::string secret = "hunter2-value";
  for (bool show : {false, true}) {
    lines.clear();
    echo.echo_parameters = show;
    const std::string url = test::is_postgres() ? test::pg_url() : test::sqlite_url();
    run_bounded(30s, [&](asio::any_io_executor ex) -> awaitable<void> {
      auto engine = create_async_engine(ex, url, echo);
      auto c = co_await engine.connect();
      co_await c.execute(text("SELECT :secret").bind("secret", secret));
      co_await c.close();
    });
    bool shown = false;
    for (const auto& l : lines) {
      CHECK_THAT(l, !Catch::Contains(pw));
      shown = shown || l.find(secret) != std::string::npos;
    }
    CHECK(shown == show);
  }
}

#endif  // !CORM_TEST_BACKEND_MYSQL
