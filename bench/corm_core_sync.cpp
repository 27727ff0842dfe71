// corm-core-sync: corm's synchronous core — Engine, Connection, text() statements, Result/Row
// decoding into structs, no ORM. Threads where the workload is concurrent (8 threads sharing an
// engine whose pool holds 8 connections). Peers printed:
//   corm-core-sync           W1 one connection held; W2 8 threads; W3; W4 (connection per load);
//                            W5 one-by-one inserts (the sync front has no execute_many);
//                            W6 8 threads carrying the 32 tasks
//   corm-core-sync-checkout  W1 with a connection checked out and closed per lookup
//   W1, W3 and W4 also print `ratio_to_raw_libpq`: each timed pass paired with a raw libpq pass in
//   this process (bench::paired), the median of raw time / corm time

#include <corm/corm.hpp>
#include <thread>
#include <unordered_map>

#include "common.hpp"
#include "raw_libpq_baseline.hpp"
#include "corm_common.hpp"

using namespace bench;

namespace {

const char* peer = "corm-core-sync";

void w1(corm::Engine& engine, const std::string& dsn) {
  auto ids = lcg_ids(42, w1_lookups);
  const auto want = sum(ids);
  raw::Baseline raw(dsn);
  const PairedTimes p = paired(whole([&] {
    auto conn = engine.connect();
    std::int64_t got = 0;
    for (auto id : ids) got += to_author(conn.execute(w1_stmt().bind("id", id)).one()).id;
    conn.close();
    check_eq(got, want, "W1 sum of ids");
  }), [&] { return raw::w1_pass(raw.conn(), ids, want); });
  p.report("W1", peer, "ops_per_s", w1_lookups);
  double t = median_of_3(whole([&] {
    std::int64_t got = 0;
    for (auto id : ids) {
      auto conn = engine.connect();
      got += to_author(conn.execute(w1_stmt().bind("id", id)).one()).id;
      conn.close();
    }
    check_eq(got, want, "W1 sum of ids");
  }));
  report("W1", "corm-core-sync-checkout", "ops_per_s", w1_lookups / t);
}

void w2(corm::Engine& engine) {
  auto ids = lcg_ids(4242, w2_lookups);
  const auto want = sum(ids);
  double t = median_of_3(whole([&] {
    std::vector<std::int64_t> sums(pool_size, 0);
    std::vector<std::thread> th;
    for (int k = 0; k < pool_size; ++k)
      th.emplace_back([&, k] {
        auto conn = engine.connect();
        std::int64_t s = 0;
        for (std::size_t i = static_cast<std::size_t>(k); i < ids.size(); i += pool_size)
          s += to_author(conn.execute(w1_stmt().bind("id", ids[i])).one()).id;
        conn.close();
        sums[static_cast<std::size_t>(k)] = s;
      });
    for (auto& x : th) x.join();
    check_eq(sum(sums), want, "W2 sum of ids");
  }));
  report("W2", peer, "ops_per_s", w2_lookups / t);
}

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

void w3(corm::Engine& engine, const std::string& dsn) {
  const auto want = w3_expect();
  raw::Baseline raw(dsn);
  double peak = 0;  // the peer's own: read before the first raw pass
  std::size_t yield_per = w3_yield_per;  // 0: read whole
  auto read_item = [](const corm::Row& row) {
    return Item{row.get<std::int64_t>(0), row.get<std::int32_t>(1), row.get<std::int64_t>(2),
                row.get<std::string>(3), row.get<std::string>(4), row.get<corm::Decimal>(5),
                row.get<double>(6), row.get<bool>(7), row.get<corm::Timestamp>(8),
                row.get<corm::Date>(9), row.get<corm::Uuid>(10)};
  };
  auto pass = [&] {
    std::vector<Item> items;
    {
      auto conn = engine.connect();
      auto stmt = corm::text(
          "SELECT id, c_int, c_bigint, c_text, c_varchar, c_numeric, c_float, c_bool, c_ts, c_date, c_uuid FROM items");
      if (yield_per > 0) {
        items.reserve(w3_rows);
        conn.stream(stmt.compile(conn.dialect()), yield_per, [&](corm::Result slice) {
          for (const corm::Row& row : slice) items.push_back(read_item(row));
        });
      } else {
        corm::Result r = conn.execute(stmt);
        items.reserve(r.size());
        for (const corm::Row& row : r) items.push_back(read_item(row));
      }
      conn.close();
    }
    const W3Sums got = w3_sums(items, [](const auto& it) { return cents(it.c_numeric); });
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

void w4(corm::Engine& engine, const std::string& dsn) {
  const auto want_pages = w4_pages_sum();
  auto load = [&] {
    auto conn = engine.connect();
    std::vector<AuthorWithBooks> authors;
    std::unordered_map<std::int64_t, std::size_t> by_id;
    corm::Result ra = conn.execute(corm::text("SELECT id, name, email, created_at FROM authors"));
    authors.reserve(ra.size());
    for (const corm::Row& row : ra) {
      authors.push_back({to_author(row), {}});
      by_id.emplace(authors.back().a.id, authors.size() - 1);
    }
    corm::Array ids;
    for (const auto& a : authors) ids.items.emplace_back(a.a.id);
    corm::Result rb = conn.execute(
        corm::text("SELECT id, author_id, title, pages, price, published_at FROM books WHERE author_id = ANY(:ids)")
            .bind("ids", std::move(ids)));
    conn.close();
    for (const corm::Row& row : rb) {
      Book b{row.get<std::int64_t>(0), row.get<std::int64_t>(1), row.get<std::string>(2), row.get<std::int32_t>(3),
             row.get<corm::Decimal>(4), row.get<corm::Timestamp>(5)};
      authors[by_id.at(b.author_id)].books.push_back(std::move(b));
    }
    check_w4(authors, want_pages);
  };
  raw::Baseline raw(dsn);
  auto raw_pass = [&] { return raw::w4_pass(raw.conn(), want_pages); };
  const PairedTimes p = paired(whole([&] {
                                 for (int i = 0; i < w4_loads; ++i) load();
                               }),
                               raw_pass);
  p.report("W4", peer, "loads_per_s", w4_loads);
}

struct NewBook {
  std::int64_t id = 0;
  std::int64_t author_id;
  std::string title;
  std::int32_t pages;
  corm::Decimal price;
  corm::Timestamp published_at;
};

// Deletes the inserted rows and vacuums books, untimed (see corm_core_async.cpp).
void w5_clean(corm::Engine& engine) {
  {
    auto conn = engine.connect();
    conn.execute(corm::text("DELETE FROM books WHERE title LIKE 'w5-%'"));
    conn.commit();
  }
  auto vac = engine.connect();
  vac.set_isolation_level(corm::IsolationLevel::autocommit);
  vac.execute_script("VACUUM books");
}

void w5(corm::Engine& engine) {
  w5_clean(engine);
  const auto insert = corm::text(
      "INSERT INTO books (author_id, title, pages, price, published_at) "
      "VALUES (:a, :t, :p, :pr, :ts) RETURNING id");
  double t = median_of_3([&] {
    std::vector<NewBook> books;
    books.reserve(w5_rows);
    for (int i = 0; i < w5_rows; ++i)
      books.push_back({0, w5_author(i), w5_title(i), static_cast<std::int32_t>(w5_pages(i)),
                       corm::Decimal(w5_price_text(i)),
                       corm::Timestamp(std::chrono::microseconds(w5_published_unix_us(i)))});
    auto t0 = Clock::now();
    {
      auto conn = engine.connect();
      auto tx = conn.begin();
      for (auto& b : books) {
        corm::Params p{{"a", b.author_id}, {"t", b.title}, {"p", b.pages}, {"pr", b.price}, {"ts", b.published_at}};
        b.id = conn.execute(insert, p).scalar_one<std::int64_t>();
      }
      conn.commit();
    }
    double s = seconds_since(t0);
    std::int64_t nz = 0;
    for (const auto& b : books) nz += b.id > 0;
    check_eq(nz, w5_rows, "W5 generated ids returned");
    {
      auto conn = engine.connect();
      auto [n, p] = conn.execute(corm::text("SELECT count(*), sum(pages) FROM books WHERE title LIKE 'w5-%'"))
                        .one()
                        .as<std::int64_t, std::int64_t>();
      check_eq(n, w5_rows, "W5 count");
      check_eq(p, w5_pages_sum(), "W5 sum(pages)");
    }
    w5_clean(engine);
    return s;
  });
  report("W5", peer, "rows_per_s", w5_rows / t);
}

void w6(corm::Engine& engine) {
  const auto sel = corm::text("SELECT value FROM counters WHERE id = :id FOR UPDATE");
  const auto upd = corm::text("UPDATE counters SET value = :v WHERE id = :id");
  double t = median_of_3([&] {
    {
      auto conn = engine.connect();
      conn.execute(corm::text("UPDATE counters SET value = 0"));
      conn.commit();
    }
    auto t0 = Clock::now();
    std::vector<std::thread> th;
    // Like raw-libpq: 8 threads carry the 32 tasks (thread k runs tasks k, k+8, k+16, k+24).
    for (int k = 0; k < pool_size; ++k)
      th.emplace_back([&, k] {
        for (int j = 0; j < w6_tx_per_task; ++j)
          for (int task = k; task < w6_tasks; task += pool_size) {
            const std::int64_t id = (task + j) % w6_counters + 1;
            auto conn = engine.connect();
            auto tx = conn.begin();
            const auto v = conn.execute(sel.bind("id", id)).scalar_one<std::int64_t>();
            conn.execute(upd.bind("v", v + 1).bind("id", id));
            conn.commit();
            conn.close();
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
  if (args.dsn.empty()) fail("usage: bench-corm-core-sync --dsn postgresql://... [--only Wn]");
  try {
    corm::EngineOptions opts;
    opts.pool.pool_size = pool_size;
    opts.pool.max_overflow = 0;
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
