// corm-core-async (PostgreSQL, --dsn) and corm-core-sqlite (SQLite file, --db): corm's async
// core — AsyncEngine, AsyncConnection, text() statements, Result/Row decoding into structs, no ORM.
// Everything runs on one io_context thread. Peers printed:
//   corm-core-async           W1 one connection held for all lookups; W2 64 tasks, each lookup
//                             checks a connection out of the pool of 8; W3; W4 (connection per
//                             load); W5 execute_many (pipelined); W6 32 tasks over a pool of 8
//   corm-core-async-checkout  W1 with a connection checked out and closed per lookup
//                             (web-request style, like the ORM's fresh session per lookup)
//   corm-core-sqlite          W1, W3, W4, W5 on a SQLite file
//   corm-core-mariadb         W1..W6 given a mysql:// URL (and corm-core-mariadb-checkout);
//                             W3 reads the result whole, W4's ids go as an IN list
//   W1, W3 and W4 on PostgreSQL also print `ratio_to_raw_libpq`: each timed pass paired with a raw
//   libpq pass in this process (bench::paired), the median of raw time / corm time

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <corm/asyncio.hpp>
#include <unordered_map>

#include "async_common.hpp"
#include "corm_async_workloads.hpp"
#include "common.hpp"
#include "corm_common.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using namespace bench;

namespace {

bool sqlite_mode = false;
bool mysql_mode = false;  // a mysql:// URL: MariaDB / MySQL, no raw libpq pairing
/// SQLite and MySQL report their own passes; only PostgreSQL pairs each pass with raw libpq's.
bool unpaired() { return sqlite_mode || mysql_mode; }
const char* peer() { return sqlite_mode ? "corm-core-sqlite" : mysql_mode ? "corm-core-mariadb" : "corm-core-async"; }

// --- W1 -----------------------------------------------------------------------------------

awaitable<double> w1_pass_held(corm::AsyncEngine& engine, const std::vector<std::int64_t>& ids, std::int64_t want) {
  auto t0 = Clock::now();
  auto conn = co_await engine.connect();
  std::int64_t got = 0;
  for (auto id : ids) {
    auto stmt = w1_stmt().bind("id", id);
    corm::Result r = co_await conn.execute(stmt);
    got += to_author(r.one()).id;
  }
  co_await conn.close();
  double s = seconds_since(t0);
  check_eq(got, want, "W1 sum of ids");
  co_return s;
}

awaitable<double> w1_pass_checkout(corm::AsyncEngine& engine, const std::vector<std::int64_t>& ids, std::int64_t want) {
  auto t0 = Clock::now();
  std::int64_t got = 0;
  for (auto id : ids) {
    auto conn = co_await engine.connect();
    auto stmt = w1_stmt().bind("id", id);
    corm::Result r = co_await conn.execute(stmt);
    got += to_author(r.one()).id;
    co_await conn.close();
  }
  double s = seconds_since(t0);
  check_eq(got, want, "W1 sum of ids");
  co_return s;
}

awaitable<void> w1(corm::AsyncEngine& engine, const Args& args) {
  auto ids = lcg_ids(42, w1_lookups);
  const auto want = sum(ids);
  auto held = [&] { return w1_pass_held(engine, ids, want); };
  co_await report_w1(held, peer(), unpaired(), args.dsn, ids, want);
  std::vector<double> t;
  for (int r = 0; r < 4; ++r) t.push_back(co_await w1_pass_checkout(engine, ids, want));
  report("W1", sqlite_mode ? "corm-core-sqlite-checkout" : mysql_mode ? "corm-core-mariadb-checkout" : "corm-core-async-checkout", "ops_per_s",
         w1_lookups / median3(t));
}

// --- W2 -----------------------------------------------------------------------------------

awaitable<void> w2_task(corm::AsyncEngine& engine, const std::vector<std::int64_t>& ids, int k, std::int64_t& out,
                        WaitGroup& wg) {
  std::int64_t s = 0;
  for (std::size_t i = static_cast<std::size_t>(k); i < ids.size(); i += w2_tasks) {
    auto conn = co_await engine.connect();
    auto stmt = w1_stmt().bind("id", ids[i]);
    corm::Result r = co_await conn.execute(stmt);
    s += to_author(r.one()).id;
    co_await conn.close();
  }
  out = s;
  wg.done();
}

awaitable<double> w2_pass(corm::AsyncEngine& engine, const std::vector<std::int64_t>& ids, std::int64_t want) {
  auto ex = co_await asio::this_coro::executor;
  WaitGroup wg(ex);
  std::vector<std::int64_t> sums(w2_tasks, 0);
  auto t0 = Clock::now();
  wg.pending = w2_tasks;
  for (int k = 0; k < w2_tasks; ++k) asio::co_spawn(ex, w2_task(engine, ids, k, sums[k], wg), on_task_done);
  co_await wg.wait();
  double s = seconds_since(t0);
  check_eq(sum(sums), want, "W2 sum of ids");
  co_return s;
}

awaitable<void> w2(corm::AsyncEngine& engine) {
  auto ids = lcg_ids(4242, w2_lookups);
  const auto want = sum(ids);
  std::vector<double> t;
  for (int r = 0; r < 4; ++r) t.push_back(co_await w2_pass(engine, ids, want));
  report("W2", peer(), "ops_per_s", w2_lookups / median3(t));
}

// --- W3 -----------------------------------------------------------------------------------

struct Item {
  std::int64_t id;
  std::int32_t c_int;
  std::int64_t c_bigint;
  std::string c_text;
  std::string c_varchar;
  corm::Decimal c_numeric;
  double c_float;
  bool c_bool;
  corm::Timestamp c_ts;
  corm::Date c_date;
  corm::Uuid c_uuid;
};

Item read_item(const corm::Row& row) {
  return Item{row.get<std::int64_t>(0), row.get<std::int32_t>(1), row.get<std::int64_t>(2),
              row.get<std::string>(3), row.get<std::string>(4), row.get<corm::Decimal>(5),
              row.get<double>(6), row.get<bool>(7), row.get<corm::Timestamp>(8), row.get<corm::Date>(9),
              row.get<corm::Uuid>(10)};
}

// `yield_per` > 0 reads through AsyncConnection::stream, the rows of one slice decoded while the
// next is on its way; 0 reads the result whole.
awaitable<double> w3_pass(corm::AsyncEngine& engine, const W3Sums& want, std::size_t yield_per) {
  auto t0 = Clock::now();
  std::vector<Item> items;
  {
    auto conn = co_await engine.connect();
    auto stmt = corm::text(
        "SELECT id, c_int, c_bigint, c_text, c_varchar, c_numeric, c_float, c_bool, c_ts, c_date, c_uuid FROM items");
    if (yield_per > 0) {
      items.reserve(w3_rows);
      std::function<void(corm::Result)> on_rows = [&items](corm::Result slice) {
        for (const corm::Row& row : slice) items.push_back(read_item(row));
      };
      co_await conn.stream(stmt.compile(conn.dialect()), yield_per, std::move(on_rows));
    } else {
      corm::Result r = co_await conn.execute(stmt);
      items.reserve(r.size());
      for (const corm::Row& row : r) items.push_back(read_item(row));
    }
    co_await conn.close();
  }
  const W3Sums got = w3_sums(items, [](const auto& it) { return cents(it.c_numeric); });
  double s = seconds_since(t0);
  check_w3(got, want);
  co_return s;
}

awaitable<void> w3(corm::AsyncEngine& engine, const Args& args) {
  const auto want = w3_expect();
  auto pass = [&] { return w3_pass(engine, want, mysql_mode ? 0 : w3_yield_per); };
  co_await report_w3(pass, peer(), unpaired(), args.dsn);
  if (unpaired()) co_return;
  auto whole = [&] { return w3_pass(engine, want, 0); };
  co_await report_w3_whole(whole, peer(), args.dsn);
}

// --- W4 -----------------------------------------------------------------------------------

struct Book {
  std::int64_t id;
  std::int64_t author_id;
  std::string title;
  std::int32_t pages;
  corm::Decimal price;
  corm::Timestamp published_at;
};
struct AuthorWithBooks {
  Author a;
  std::vector<Book> books;
};

awaitable<void> w4_load(corm::AsyncEngine& engine, std::int64_t want_pages) {
  auto conn = co_await engine.connect();
  std::vector<AuthorWithBooks> authors;
  std::unordered_map<std::int64_t, std::size_t> by_id;
  {
    auto stmt = corm::text("SELECT id, name, email, created_at FROM authors");
    corm::Result r = co_await conn.execute(stmt);
    authors.reserve(r.size());
    for (const corm::Row& row : r) {
      authors.push_back({to_author(row), {}});
      by_id.emplace(authors.back().a.id, authors.size() - 1);
    }
  }
  corm::Result books;
  if (sqlite_mode) {
    std::string json = "[";
    for (const auto& a : authors) {
      if (json.size() > 1) json += ',';
      json += std::to_string(a.a.id);
    }
    json += ']';
    auto stmt = corm::text(
                    "SELECT id, author_id, title, pages, price, published_at FROM books "
                    "WHERE author_id IN (SELECT value FROM json_each(:ids))")
                    .bind("ids", json);
    books = co_await conn.execute(stmt);
  } else if (mysql_mode) {
    // No array parameter on MySQL: one placeholder per author.
    std::string sql = "SELECT id, author_id, title, pages, price, published_at FROM books WHERE author_id IN (";
    std::vector<corm::Value> ids;
    ids.reserve(authors.size());
    for (const auto& a : authors) {
      sql += ids.empty() ? "?" : ",?";
      ids.emplace_back(a.a.id);
    }
    sql += ")";
    books = co_await conn.exec_driver_sql(std::move(sql), std::move(ids));
  } else {
    corm::Array ids;
    ids.items.reserve(authors.size());
    for (const auto& a : authors) ids.items.emplace_back(a.a.id);
    auto stmt = corm::text(
                    "SELECT id, author_id, title, pages, price, published_at FROM books WHERE author_id = ANY(:ids)")
                    .bind("ids", std::move(ids));
    books = co_await conn.execute(stmt);
  }
  co_await conn.close();
  for (const corm::Row& row : books) {
    Book b{row.get<std::int64_t>(0), row.get<std::int64_t>(1), row.get<std::string>(2), row.get<std::int32_t>(3),
           row.get<corm::Decimal>(4), row.get<corm::Timestamp>(5)};
    authors[by_id.at(b.author_id)].books.push_back(std::move(b));
  }
  check_w4(authors, want_pages);
}

awaitable<double> w4_pass(corm::AsyncEngine& engine, std::int64_t want_pages) {
  auto t0 = Clock::now();
  for (int i = 0; i < w4_loads; ++i) co_await w4_load(engine, want_pages);
  co_return seconds_since(t0);
}

awaitable<void> w4(corm::AsyncEngine& engine, const Args& args) {
  const auto want_pages = w4_pages_sum();
  auto pass = [&] { return w4_pass(engine, want_pages); };
  co_await report_w4(pass, peer(), unpaired(), args.dsn);
}

// --- W5 -----------------------------------------------------------------------------------

struct NewBook {
  std::int64_t id = 0;
  std::int64_t author_id;
  std::string title;
  std::int32_t pages;
  corm::Decimal price;
  corm::Timestamp published_at;
};

awaitable<double> w5_pass(corm::AsyncEngine& engine) {
  std::vector<NewBook> books;
  books.reserve(w5_rows);
  for (int i = 0; i < w5_rows; ++i)
    books.push_back({0, w5_author(i), w5_title(i), static_cast<std::int32_t>(w5_pages(i)),
                     corm::Decimal(w5_price_text(i)),
                     corm::Timestamp(std::chrono::microseconds(w5_published_unix_us(i)))});
  auto t0 = Clock::now();
  {
    auto conn = co_await engine.connect();
    auto tx = co_await conn.begin();
    std::vector<std::vector<corm::Value>> rows;
    rows.reserve(books.size());
    for (const auto& b : books) {
      std::vector<corm::Value> row;
      row.reserve(5);
      row.emplace_back(b.author_id);
      row.emplace_back(b.title);
      row.emplace_back(b.pages);
      row.emplace_back(b.price);
      row.emplace_back(b.published_at);
      rows.push_back(std::move(row));
    }
    std::string sql = sqlite_mode ? "INSERT INTO books (author_id, title, pages, price, published_at) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id"
                  : mysql_mode ? "INSERT INTO books (author_id, title, pages, price, published_at) "
                                 "VALUES (?, ?, ?, ?, ?) RETURNING id"  // MariaDB 10.5+
                                  : "INSERT INTO books (author_id, title, pages, price, published_at) "
                                    "VALUES ($1, $2, $3, $4, $5) RETURNING id";
    std::vector<corm::Result> res = co_await conn.execute_many(std::move(sql), std::move(rows));
    check_eq(static_cast<std::int64_t>(res.size()), w5_rows, "W5 results");
    for (std::size_t i = 0; i < res.size(); ++i) books[i].id = res[i].scalar_one<std::int64_t>();
    co_await tx.commit();
    co_await conn.close();
  }
  double s = seconds_since(t0);
  std::int64_t nz = 0;
  for (const auto& b : books) nz += b.id > 0;
  check_eq(nz, w5_rows, "W5 generated ids returned");
  {
    auto conn = co_await engine.connect();
    auto q = corm::text("SELECT count(*), sum(pages) FROM books WHERE title LIKE 'w5-%'");
    corm::Result r = co_await conn.execute(q);
    auto [n, p] = r.one().as<std::int64_t, std::int64_t>();
    check_eq(n, w5_rows, "W5 count");
    check_eq(p, w5_pages_sum(), "W5 sum(pages)");
    co_await conn.close();
  }
  co_await w5_clean(engine, unpaired());
  co_return s;
}

awaitable<void> w5(corm::AsyncEngine& engine) {
  co_await w5_clean(engine, unpaired());
  std::vector<double> t;
  for (int r = 0; r < 4; ++r) t.push_back(co_await w5_pass(engine));
  report("W5", peer(), "rows_per_s", w5_rows / median3(t));
}

// --- W6 -----------------------------------------------------------------------------------

awaitable<void> w6_task(corm::AsyncEngine& engine, int task, WaitGroup& wg) {
  for (int j = 0; j < w6_tx_per_task; ++j) {
    const std::int64_t id = (task + j) % w6_counters + 1;
    auto conn = co_await engine.connect();
    auto tx = co_await conn.begin();
    auto sel = corm::text("SELECT value FROM counters WHERE id = :id FOR UPDATE").bind("id", id);
    corm::Result r = co_await conn.execute(sel);
    const auto v = r.scalar_one<std::int64_t>();
    auto upd = corm::text("UPDATE counters SET value = :v WHERE id = :id").bind("v", v + 1).bind("id", id);
    co_await conn.execute(upd);
    co_await tx.commit();
    co_await conn.close();
  }
  wg.done();
}

awaitable<void> w6(corm::AsyncEngine& engine) {
  std::vector<double> t;
  for (int r = 0; r < 4; ++r) t.push_back(co_await w6_pass(engine, w6_task));
  report("W6", peer(), "tx_per_s", w6_tasks * w6_tx_per_task / median3(t));
}

awaitable<void> run_all(Args args) {
  auto ex = co_await asio::this_coro::executor;
  corm::EngineOptions opts;
  opts.pool.pool_size = pool_size;
  opts.pool.max_overflow = 0;
  const std::string url = sqlite_mode ? "sqlite:///" + args.db : args.dsn;
  corm::AsyncEngine engine = corm::create_async_engine(ex, url, opts);
  if (args.wants("W1")) { std::fprintf(stderr, "%s W1\n", peer()); co_await w1(engine, args); }
  if (!sqlite_mode && args.wants("W2")) { std::fprintf(stderr, "%s W2\n", peer()); co_await w2(engine); }
  if (args.wants("W3")) { std::fprintf(stderr, "%s W3\n", peer()); co_await w3(engine, args); }
  if (args.wants("W4")) { std::fprintf(stderr, "%s W4\n", peer()); co_await w4(engine, args); }
  if (args.wants("W5")) { std::fprintf(stderr, "%s W5\n", peer()); co_await w5(engine); }
  if (!sqlite_mode && args.wants("W6")) { std::fprintf(stderr, "%s W6\n", peer()); co_await w6(engine); }
  engine.dispose();
}

}  // namespace

int main(int argc, char** argv) {
  keep_heap();
  auto args = parse_args(argc, argv);
  sqlite_mode = !args.db.empty();
  mysql_mode = !sqlite_mode && args.dsn.rfind("mysql://", 0) == 0;
  if (!sqlite_mode && args.dsn.empty())
    fail("usage: bench-corm-core-async (--dsn postgresql://... | --dsn mysql://... | --db file.sqlite) [--only Wn]");
  asio::io_context ioc(1);
  asio::co_spawn(ioc, run_all(args), on_task_done);
  ioc.run();
  return 0;
}
