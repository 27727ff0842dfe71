// corm-orm-async (PostgreSQL, --dsn) and corm-orm-sqlite (SQLite file, --db): the ORM the way a
// service writes it — AsyncSession, select<T>, selectinload, add_all + commit, with_for_update —
// on one io_context thread. Peers printed:
//   corm-orm-async   W1 a fresh session per get<Author>(id); W2 64 tasks, a session per lookup,
//                    pool of 8; W3 100,000 mapped Items through the identity map; W4 selectinload
//                    in a fresh session per load; W5 add_all + commit (pipelined flush);
//                    W6 32 tasks, a session per transaction, SELECT ... FOR UPDATE through the ORM
//   corm-orm-sqlite  W1, W3, W4, W5 on a SQLite file
//   corm-orm-mariadb W1..W6 given a mysql:// URL; W3 reads the result whole (no yield_per)
//   W1, W3 and W4 on PostgreSQL also print `ratio_to_raw_libpq`: each timed pass paired with a raw
//   libpq pass in this process (bench::paired), the median of raw time / corm time
//   corm-orm-async-identity-map (W1, ns_per_hit): get<Author>(id) of an object the session
//                    already holds — no statement, the identity map answers
//   corm-orm-async-routed-ryw-off / -ryw-on (W1, ops_per_s; with --replica-dsn, a standby of
//                    --dsn): W1 through an AsyncRoutingSession per lookup over the primary and
//                    the standby, read-your-writes off and on, passes interleaved; then the
//                    ratio on / off. A lookup with nothing written needs no replica check, so
//                    the policy should cost nothing here.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <corm/asyncio.hpp>
#include <corm/ext/routing.hpp>
#include <corm/orm/async_session.hpp>

#include "async_common.hpp"
#include "corm_async_workloads.hpp"
#include "cents.hpp"
#include "common.hpp"
#include "orm_models.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using namespace bench;
using bench::orm::Author;
using bench::orm::Book;
using bench::orm::Counter;
using bench::orm::Item;

namespace {

bool sqlite_mode = false;
bool mysql_mode = false;  // a mysql:// URL: MariaDB / MySQL, no raw libpq pairing
/// SQLite and MySQL report their own passes; only PostgreSQL pairs each pass with raw libpq's.
bool unpaired() { return sqlite_mode || mysql_mode; }
const char* peer() { return sqlite_mode ? "corm-orm-sqlite" : mysql_mode ? "corm-orm-mariadb" : "corm-orm-async"; }

// --- W1 -----------------------------------------------------------------------------------

awaitable<double> w1_pass(corm::AsyncEngine& engine, const std::vector<std::int64_t>& ids, std::int64_t want) {
  auto t0 = Clock::now();
  std::int64_t got = 0;
  for (auto id : ids) {
    corm::AsyncSession session(engine);
    auto a = co_await session.get<Author>(id);
    got += a->id;
    co_await session.close();
  }
  double s = seconds_since(t0);
  check_eq(got, want, "W1 sum of ids");
  co_return s;
}

// The identity-map hit: every author loaded once, then get() answers from the map.
awaitable<void> w1_identity_map(corm::AsyncEngine& engine, const std::vector<std::int64_t>& ids, std::int64_t want) {
  corm::AsyncSession session(engine);
  auto all = co_await session.scalars(corm::select<Author>());
  check_eq(static_cast<std::int64_t>(all.size()), w4_authors, "W1 identity map: authors loaded");
  const auto queries = session.stats().statements();
  constexpr int rounds = 50;
  std::vector<double> t;
  for (int r = 0; r < 4; ++r) {
    std::int64_t got = 0;
    auto t0 = Clock::now();
    for (int k = 0; k < rounds; ++k)
      for (auto id : ids) got += (co_await session.get<Author>(id))->id;
    t.push_back(seconds_since(t0));
    check_eq(got, want * rounds, "W1 identity map sum of ids");
  }
  check_eq(session.stats().statements(), queries, "W1 identity map: no statement sent");
  co_await session.close();
  report("W1", "corm-orm-async-identity-map", "ns_per_hit", median3(t) * 1e9 / (rounds * double(ids.size())));
}

awaitable<double> w1_routed_pass(const corm::ext::AsyncEnginePair& pair, const std::vector<std::int64_t>& ids,
                                  std::int64_t want) {
  auto t0 = Clock::now();
  std::int64_t got = 0;
  for (auto id : ids) {
    corm::ext::AsyncRoutingSession session(pair);
    auto a = co_await session->get<Author>(id);
    got += a->id;
    co_await session->close();
  }
  double s = seconds_since(t0);
  check_eq(got, want, "W1 routed sum of ids");
  check_eq(static_cast<std::int64_t>(pair.replica()->stats().waits), 0, "W1 routed: no replica wait");
  co_return s;
}

// W1 routed over the primary and a standby, read-your-writes off and on: a warm-up pass each,
// then three passes each, interleaved so drift hits both alike; medians.
awaitable<void> w1_routed(corm::AsyncEngine& engine, const Args& args, const std::vector<std::int64_t>& ids,
                          std::int64_t want) {
  auto ex = co_await asio::this_coro::executor;
  corm::EngineOptions opts;
  opts.pool.pool_size = pool_size;
  opts.pool.max_overflow = 0;
  corm::AsyncEngine reader = corm::create_async_engine(ex, args.replica_dsn, opts);
  corm::ext::AsyncEnginePair off(engine, reader, corm::ext::ReadYourWrites::off());
  corm::ext::AsyncEnginePair on(engine, reader, corm::ext::ReadYourWrites{});
  std::vector<double> t_off, t_on;  // median3(): the first pass of each is the warm-up
  for (int r = 0; r < 4; ++r) {
    t_off.push_back(co_await w1_routed_pass(off, ids, want));
    t_on.push_back(co_await w1_routed_pass(on, ids, want));
  }
  const double m_off = median3(t_off), m_on = median3(t_on);
  report("W1", "corm-orm-async-routed-ryw-off", "ops_per_s", w1_lookups / m_off);
  report("W1", "corm-orm-async-routed-ryw-on", "ops_per_s", w1_lookups / m_on);
  // Throughput on / off, three decimals (report() prints one).
  std::printf("W1 corm-orm-async-routed-ryw ratio_on_to_off %.3f\n", m_off / m_on);
  std::fflush(stdout);
  reader.dispose();
}

awaitable<void> w1(corm::AsyncEngine& engine, const Args& args) {
  auto ids = lcg_ids(42, w1_lookups);
  const auto want = sum(ids);
  auto pass = [&] { return w1_pass(engine, ids, want); };
  co_await report_w1(pass, peer(), unpaired(), args.dsn, ids, want);
  if (!unpaired() && args.identity_map) co_await w1_identity_map(engine, ids, want);
  if (!args.replica_dsn.empty()) co_await w1_routed(engine, args, ids, want);
}

// --- W2 -----------------------------------------------------------------------------------

awaitable<void> w2_task(corm::AsyncEngine& engine, const std::vector<std::int64_t>& ids, int k, std::int64_t& out,
                        WaitGroup& wg) {
  std::int64_t s = 0;
  for (std::size_t i = static_cast<std::size_t>(k); i < ids.size(); i += w2_tasks) {
    corm::AsyncSession session(engine);
    s += (co_await session.get<Author>(ids[i]))->id;
    co_await session.close();
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

// `yield_per` 0 reads the result whole.
awaitable<double> w3_pass(corm::AsyncEngine& engine, const W3Sums& want, std::size_t yield_per) {
  auto t0 = Clock::now();
  corm::AsyncSession session(engine);
  auto items = co_await session.scalars(corm::select<Item>().yield_per(yield_per));
  const W3Sums got = w3_sums(items, [](const auto& it) { return cents(it.c_numeric); });
  co_await session.close();
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

awaitable<void> w4_load(corm::AsyncEngine& engine, std::int64_t want_pages) {
  corm::AsyncSession session(engine);
  auto authors = co_await session.scalars(corm::select<Author>(), corm::selectinload(&Author::books));
  check_w4(authors, want_pages);
  check_eq(session.stats().statements(), std::uint64_t{2}, "W4 statements");
  co_await session.close();
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

awaitable<double> w5_pass(corm::AsyncEngine& engine) {
  std::vector<std::shared_ptr<Book>> books;
  books.reserve(w5_rows);
  for (int i = 0; i < w5_rows; ++i) {
    auto b = std::make_shared<Book>();
    b->author_id = w5_author(i);
    b->title = w5_title(i);
    b->pages = static_cast<std::int32_t>(w5_pages(i));
    b->price = corm::Decimal(w5_price_text(i));
    b->published_at = corm::Timestamp(std::chrono::microseconds(w5_published_unix_us(i)));
    books.push_back(std::move(b));
  }
  auto t0 = Clock::now();
  {
    corm::AsyncSession session(engine);
    session.add_all(books);
    co_await session.commit();
    co_await session.close();
  }
  double s = seconds_since(t0);
  std::int64_t nz = 0;
  for (const auto& b : books) nz += b->id > 0;
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
    const std::int32_t id = (task + j) % w6_counters + 1;
    corm::AsyncSession session(engine);
    auto stmt = corm::select<Counter>().where(corm::col(&Counter::id) == id).with_for_update();
    auto counters = co_await session.scalars(std::move(stmt));
    counters.at(0)->value += 1;
    co_await session.commit();
    co_await session.close();
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
  opts.defer_begin_past_reads = !args.begin_first;
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
  if (!sqlite_mode && args.dsn.empty()) fail("usage: bench-corm-orm-async (--dsn postgresql://... | --db file.sqlite) [--only Wn] [--begin-first] [--no-identity-map] [--replica-dsn postgresql://...]");
  asio::io_context ioc(1);
  asio::co_spawn(ioc, run_all(args), on_task_done);
  ioc.run();
  return 0;
}
