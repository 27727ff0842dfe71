// corm-orm-sync: the ORM on the synchronous front — Session, select<T>, selectinload,
// add_all + commit, with_for_update — with threads where the workload is concurrent (8 threads
// sharing an engine whose pool holds 8 connections), like the raw-libpq peer.
//   W1 a fresh session per get<Author>(id); W2 8 threads, a session per lookup; W3 100,000
//   mapped Items; W4 selectinload in a fresh session per load; W5 add_all + commit;
//   W6 8 threads carrying the 32 tasks, a session per transaction, SELECT ... FOR UPDATE
//   W1, W3 and W4 also print `ratio_to_raw_libpq`: each timed pass paired with a raw libpq pass in
//   this process (bench::paired), the median of raw time / corm time

#include <corm/corm.hpp>
#include <corm/orm/session.hpp>
#include <thread>

#include "cents.hpp"
#include "common.hpp"
#include "raw_libpq_baseline.hpp"
#include "orm_models.hpp"

using namespace bench;
using bench::orm::Author;
using bench::orm::Book;
using bench::orm::Counter;
using bench::orm::Item;

namespace {

const char* peer = "corm-orm-sync";

void w1(corm::Engine& engine, const std::string& dsn) {
  auto ids = lcg_ids(42, w1_lookups);
  const auto want = sum(ids);
  raw::Baseline raw(dsn);
  const PairedTimes p = paired(whole([&] {
    std::int64_t got = 0;
    for (auto id : ids) {
      corm::Session session(engine);
      got += session.get<Author>(id)->id;
      session.close();
    }
    check_eq(got, want, "W1 sum of ids");
  }), [&] { return raw::w1_pass(raw.conn(), ids, want); });
  p.report("W1", peer, "ops_per_s", w1_lookups);
}

void w2(corm::Engine& engine) {
  auto ids = lcg_ids(4242, w2_lookups);
  const auto want = sum(ids);
  double t = median_of_3(whole([&] {
    std::vector<std::int64_t> sums(pool_size, 0);
    std::vector<std::thread> th;
    for (int k = 0; k < pool_size; ++k)
      th.emplace_back([&, k] {
        std::int64_t s = 0;
        for (std::size_t i = static_cast<std::size_t>(k); i < ids.size(); i += pool_size) {
          corm::Session session(engine);
          s += session.get<Author>(ids[i])->id;
          session.close();
        }
        sums[static_cast<std::size_t>(k)] = s;
      });
    for (auto& x : th) x.join();
    check_eq(sum(sums), want, "W2 sum of ids");
  }));
  report("W2", peer, "ops_per_s", w2_lookups / t);
}

void w3(corm::Engine& engine, const std::string& dsn) {
  const auto want = w3_expect();
  raw::Baseline raw(dsn);
  double peak = 0;  // the peer's own: read before the first raw pass
  std::size_t yield_per = w3_yield_per;  // 0: read whole
  auto pass = [&] {
    corm::Session session(engine);
    auto items = session.scalars(corm::select<Item>().yield_per(yield_per));
    const W3Sums got = w3_sums(items, [](const auto& it) { return cents(it.c_numeric); });
    session.close();
    check_w3(got, want);
  };
  auto raw_pass = [&] { return raw::w3_pass(raw.conn(), want); };
  const PairedTimes p = paired(whole(pass), raw_pass, [&] { peak = peak_rss_mb(); });
  p.report("W3", peer, "rows_per_s", w3_rows);
  report("W3", peer, "peak_rss_mb", peak);
  yield_per = 0;
  const PairedTimes w = paired(whole(pass), raw_pass);
  std::fprintf(stderr, "  W3 %s read whole (no yield_per): ratio_to_raw_libpq %.3f\n", peer, w.ratio_median());
}

void w4(corm::Engine& engine, const std::string& dsn) {
  const auto want_pages = w4_pages_sum();
  raw::Baseline raw(dsn);
  auto raw_pass = [&] { return raw::w4_pass(raw.conn(), want_pages); };
  const PairedTimes p = paired(whole([&] {
                                 for (int i = 0; i < w4_loads; ++i) {
                                   corm::Session session(engine);
                                   auto authors = session.scalars(corm::select<Author>(), corm::selectinload(&Author::books));
                                   check_w4(authors, want_pages);
                                   session.close();
                                 }
                               }),
                               raw_pass);
  p.report("W4", peer, "loads_per_s", w4_loads);
}

void w5_clean(corm::Engine& engine) {
  auto conn = engine.connect();
  conn.execute(corm::text("DELETE FROM books WHERE title LIKE 'w5-%'"));
  conn.commit();
  conn.close();
  auto vac = engine.connect();
  vac.set_isolation_level(corm::IsolationLevel::autocommit);
  vac.execute_script("VACUUM books");
  vac.close();
}

void w5(corm::Engine& engine) {
  w5_clean(engine);
  double t = median_of_3([&] {
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
      corm::Session session(engine);
      session.add_all(books);
      session.commit();
      session.close();
    }
    double s = seconds_since(t0);
    std::int64_t nz = 0;
    for (const auto& b : books) nz += b->id > 0;
    check_eq(nz, w5_rows, "W5 generated ids returned");
    auto conn = engine.connect();
    auto [n, p] = conn.execute(corm::text("SELECT count(*), sum(pages) FROM books WHERE title LIKE 'w5-%'"))
                      .one()
                      .as<std::int64_t, std::int64_t>();
    conn.close();
    check_eq(n, w5_rows, "W5 count");
    check_eq(p, w5_pages_sum(), "W5 sum(pages)");
    w5_clean(engine);
    return s;
  });
  report("W5", peer, "rows_per_s", w5_rows / t);
}

void w6(corm::Engine& engine) {
  double t = median_of_3([&] {
    {
      auto conn = engine.connect();
      conn.execute(corm::text("UPDATE counters SET value = 0"));
      conn.commit();
    }
    auto t0 = Clock::now();
    std::vector<std::thread> th;
    for (int k = 0; k < pool_size; ++k)
      th.emplace_back([&, k] {
        for (int j = 0; j < w6_tx_per_task; ++j)
          for (int task = k; task < w6_tasks; task += pool_size) {
            const std::int32_t id = (task + j) % w6_counters + 1;
            corm::Session session(engine);
            auto counters =
                session.scalars(corm::select<Counter>().where(corm::col(&Counter::id) == id).with_for_update());
            counters.at(0)->value += 1;
            session.commit();
            session.close();
          }
      });
    for (auto& x : th) x.join();
    double s = seconds_since(t0);
    auto conn = engine.connect();
    check_eq(conn.execute(corm::text("SELECT sum(value) FROM counters")).scalar_one<std::int64_t>(),
             w6_tasks * w6_tx_per_task, "W6 final sum");
    return s;
  });
  report("W6", peer, "tx_per_s", w6_tasks * w6_tx_per_task / t);
}

}  // namespace

int main(int argc, char** argv) {
  keep_heap();
  auto args = parse_args(argc, argv);
  if (args.dsn.empty()) fail("usage: bench-corm-orm-sync --dsn postgresql://... [--only Wn] [--begin-first]");
  try {
    corm::EngineOptions opts;
    opts.pool.pool_size = pool_size;
    opts.pool.max_overflow = 0;
    opts.defer_begin_past_reads = !args.begin_first;
    corm::Engine engine = corm::create_engine(args.dsn, opts);
    if (args.wants("W1")) { std::fprintf(stderr, "%s W1\n", peer); w1(engine, args.dsn); }
    if (args.wants("W2")) { std::fprintf(stderr, "%s W2\n", peer); w2(engine); }
    if (args.wants("W3")) { std::fprintf(stderr, "%s W3\n", peer); w3(engine, args.dsn); }
    if (args.wants("W4")) { std::fprintf(stderr, "%s W4\n", peer); w4(engine, args.dsn); }
    if (args.wants("W5")) { std::fprintf(stderr, "%s W5\n", peer); w5(engine); }
    if (args.wants("W6")) { std::fprintf(stderr, "%s W6\n", peer); w6(engine); }
    engine.dispose();
  } catch (const std::exception& e) {
    fail(std::string("error: ") + e.what());
  }
  return 0;
}
