// AsyncConnection::stream: a read handed over in slices (PostgreSQL: a server-side cursor with
// the next FETCH in flight; MySQL: rows read off the network as they are consumed; SQLite: one
// slice) — slice sizes and order, a failure part way, the
// caller's own exception, and a read outside any transaction.
#include <catch2/catch.hpp>

#include <corm/asyncio.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/async_test.hpp"
#include "support/test_db.hpp"

using namespace corm;
namespace asio = boost::asio;
using asio::awaitable;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr int stream_rows = 2500;

// A table of `stream_rows` rows (id, name = "row <id>"), committed; returns its quoted name.
awaitable<std::string> make_rows(AsyncEngine& engine) {
  auto conn = co_await engine.connect();
  const auto t = quote_identifier(conn.dialect(), test::unique_name("stream"));
  co_await conn.execute_script("CREATE TABLE " + t + " (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  co_await conn.commit();
  std::vector<std::vector<Value>> rows;
  for (int i = 1; i <= stream_rows; ++i) rows.push_back({Value(i), Value("row " + std::to_string(i))});
  std::string insert = "INSERT INTO " + t + " VALUES (";
  append_placeholder(insert, conn.dialect(), 1);
  insert += ", ";
  append_placeholder(insert, conn.dialect(), 2);
  insert += ")";
  co_await conn.execute_many(insert, std::move(rows));
  co_await conn.commit();
  co_await conn.close();
  co_return t;
}

Compiled raw_sql(std::string s) {
  Compiled c;
  c.sql = std::make_shared<const std::string>(std::move(s));
  return c;
}

// Cursors stream() declared and left open on the connection (PostgreSQL; 0 elsewhere). The
// unnamed portal of this very query is listed too, hence the name filter.
awaitable<std::int64_t> open_cursors(AsyncConnection& conn) {
  if (conn.dialect() != Dialect::postgresql) co_return 0;
  auto r = co_await conn.exec_driver_sql("SELECT count(*) FROM pg_cursors WHERE name LIKE 'corm_cursor%'");
  co_return r.scalar_one<std::int64_t>();
}

}  // namespace

TEST_CASE("async: stream hands a read over in slices of yield_per rows, every row once and in order", "[async]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    const std::string t = co_await make_rows(engine);
    auto conn = co_await engine.connect();
    std::vector<std::size_t> slices;
    std::vector<std::int64_t> ids;
    bool names_match = true;
    std::function<void(Result)> on_rows = [&](Result slice) {
      slices.push_back(slice.size());
      for (const Row& row : slice) {
        ids.push_back(row.get<std::int64_t>(0));
        if (row.size() > 1) names_match = names_match && row.get<std::string>(1) == "row " + std::to_string(ids.back());
      }
    };
    co_await conn.stream(raw_sql("SELECT id, name FROM " + t + " ORDER BY id"), 1000, on_rows);
    if (test::is_sqlite()) CHECK(slices == std::vector<std::size_t>{stream_rows});  // no server to overlap with
    else CHECK(slices == std::vector<std::size_t>{1000, 1000, 500});
    REQUIRE(ids.size() == stream_rows);
    for (int i = 0; i < stream_rows; ++i) REQUIRE(ids[i] == i + 1);
    CHECK(names_match);
    CHECK(co_await open_cursors(conn) == 0);

    // A multiple of yield_per and an empty result: on_rows only ever sees rows.
    slices.clear();
    co_await conn.stream(raw_sql("SELECT id FROM " + t + " WHERE id <= 2000"), 1000, on_rows);
    if (test::is_sqlite()) CHECK(slices == std::vector<std::size_t>{2000});
    else CHECK(slices == std::vector<std::size_t>{1000, 1000});
    slices.clear();
    co_await conn.stream(raw_sql("SELECT id FROM " + t + " WHERE id < 0"), 1000, on_rows);
    CHECK(slices.empty());

    // A slice never holds more than the driver's FETCH size (1,000 on PostgreSQL), whatever
    // yield_per asks; MySQL reads rows off the network one by one and slices at yield_per.
    slices.clear();
    co_await conn.stream(raw_sql("SELECT id FROM " + t), 2500, on_rows);
    if (test::is_postgres()) CHECK(slices == std::vector<std::size_t>{1000, 1000, 500});
    else CHECK(slices == std::vector<std::size_t>{stream_rows});

    // Parameters bind as in execute().
    slices.clear();
    ids.clear();
    Compiled c = text("SELECT id FROM " + t + " WHERE id > :lo ORDER BY id").bind("lo", 2490).compile(conn.dialect());
    co_await conn.stream(std::move(c), 4, on_rows);
    CHECK(ids == std::vector<std::int64_t>{2491, 2492, 2493, 2494, 2495, 2496, 2497, 2498, 2499, 2500});
    if (!test::is_sqlite()) CHECK(slices == std::vector<std::size_t>{4, 4, 2});
    co_await conn.close();
  });
}

TEST_CASE("async: a stream that fails part way throws the server's error after the slices before it",
          "[async][postgres]") {
  if (!test::is_postgres()) return;  // SQLite reads the result whole: nothing can fail part way
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    const std::string t = co_await make_rows(engine);
    auto conn = co_await engine.connect();
    std::size_t rows = 0;
    std::function<void(Result)> on_rows = [&](Result slice) { rows += slice.size(); };
    std::string error;
    try {
      // Division by zero at id 1500: in the second FETCH. No ORDER BY: a sort would compute
      // every row before the first FETCH returns; the sequential scan reads the rows in the order
      // they were inserted.
      co_await conn.stream(raw_sql("SELECT 10 / (id - 1500) FROM " + t), 1000, on_rows);
    } catch (const DataError& e) {
      error = e.what();
    }
    CHECK(error.find("division by zero") != std::string::npos);
    CHECK(rows == 1000);  // the first slice arrived, nothing after the error
    // The transaction is aborted on the server, as after any failed statement: roll it back.
    co_await conn.rollback();
    auto r = co_await conn.exec_driver_sql("SELECT count(*) FROM " + t);
    CHECK(r.scalar_one<std::int64_t>() == stream_rows);

    // A statement the server refuses at once (no such column).
    bool refused = false;
    try {
      co_await conn.stream(raw_sql("SELECT no_such_column FROM " + t), 1000, on_rows);
    } catch (const ProgrammingError&) {
      refused = true;
    }
    CHECK(refused);
    co_await conn.rollback();
    r = co_await conn.exec_driver_sql("SELECT count(*) FROM " + t);
    CHECK(r.scalar_one<std::int64_t>() == stream_rows);
    co_await conn.close();
  });
}

TEST_CASE("async: an exception from on_rows stops the read and leaves the transaction as it was", "[async]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    const std::string t = co_await make_rows(engine);
    auto conn = co_await engine.connect();
    co_await conn.execute(text("INSERT INTO " + t + " VALUES (:id, :n)").bind("id", 9000).bind("n", "kept"));
    int calls = 0;
    std::function<void(Result)> on_rows = [&](Result) {
      if (++calls == 2 || test::is_sqlite()) throw std::runtime_error("caller stops here");
    };
    std::string error;
    try {
      co_await conn.stream(raw_sql("SELECT id FROM " + t + " ORDER BY id"), 500, on_rows);
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    CHECK(error == "caller stops here");
    CHECK(calls == (test::is_sqlite() ? 1 : 2));  // no slice after the throw
    CHECK(co_await open_cursors(conn) == 0);        // the cursor was closed
    // The transaction is intact: the row inserted before the read commits.
    CHECK(conn.in_transaction());
    co_await conn.commit();
    auto other = co_await engine.connect();
    auto r = co_await other.execute(text("SELECT name FROM " + t + " WHERE id = :id").bind("id", 9000));
    CHECK(r.scalar_one<std::string>() == "kept");
    co_await other.close();
    co_await conn.close();
  });
}

TEST_CASE("async: stream in autocommit mode reads in a transaction of its own and ends it", "[async]") {
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    const std::string t = co_await make_rows(engine);
    auto conn = co_await engine.connect();
    conn.set_isolation_level(IsolationLevel::autocommit);
    std::size_t rows = 0;
    std::function<void(Result)> on_rows = [&](Result slice) { rows += slice.size(); };
    co_await conn.stream(raw_sql("SELECT id FROM " + t), 700, on_rows);
    CHECK(rows == stream_rows);
    CHECK_FALSE(conn.in_transaction());
    CHECK(co_await open_cursors(conn) == 0);

    bool refused = false;
    try {
      co_await conn.stream(raw_sql("SELECT id FROM " + t), 0, on_rows);
    } catch (const UsageError& e) {
      refused = std::string(e.what()).find("yield_per must be at least 1") != std::string::npos;
    }
    CHECK(refused);
    co_await conn.close();
  });
}

TEST_CASE("async: a stream cancelled between slices stops on the server and leaves the connection clean",
          "[async][cancel][postgres]") {
  if (!test::is_postgres()) return;  // SQLite's one slice: cancellation is execute()'s (test_async_engine)
  test::run_async([](asio::any_io_executor ex) -> awaitable<void> {
    auto engine = create_async_engine(ex, test::database_url());
    auto conn = co_await engine.connect();
    std::size_t rows = 0;
    std::function<void(Result)> on_rows = [&](Result slice) { rows += slice.size(); };
    // Each row takes the server 20 ms: 200 rows would take 4 s; the timer wins after 150 ms.
    asio::steady_timer t(ex, 150ms);
    auto r = co_await (conn.stream(raw_sql("SELECT g, pg_sleep(0.02) FROM generate_series(1, 200) g"), 1, on_rows) ||
                       t.async_wait(asio::use_awaitable));
    CHECK(r.index() == 1);
    CHECK(rows > 0);    // slices arrived before the timer
    CHECK(rows < 200);  // and the rest never did
    // As after any cancelled statement: roll back, and the connection answers at once.
    co_await conn.rollback();
    auto seven = co_await conn.exec_driver_sql("SELECT 7");
    CHECK(seven.scalar_one<int>() == 7);
    CHECK(co_await open_cursors(conn) == 0);
    co_await conn.close();
    CHECK(engine.pool_status().checked_out == 0);
  });
}
