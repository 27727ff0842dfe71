// raw-libpq: the physical-limit baseline. Prepared statements, binary results decoded straight
// into structs, one connection per thread, no pool. Peers printed:
//   raw-libpq            one statement per round trip (W1..W6; W5 one-by-one prepared inserts)
//   raw-libpq-pipelined  W1 lookups and W5 inserts in libpq pipeline mode
//   raw-libpq-copy       W5 by binary COPY (ids drawn first with one nextval() query)

#include <libpq-fe.h>

#include <array>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "common.hpp"
#include "raw_libpq_baseline.hpp"

namespace {

using namespace bench;
using namespace bench::raw;

void w1(PGconn* c) {
  auto ids = lcg_ids(42, w1_lookups);
  const auto want = sum(ids);
  prepare_w1(c);
  double t = median_of_3([&] { return w1_pass(c, ids, want); });
  report("W1", "raw-libpq", "ops_per_s", w1_lookups / t);

  // Pipelined: chunks of 500 lookups per sync (small enough that neither socket buffer fills).
  t = median_of_3(whole([&] {
    std::int64_t got = 0;
    int rows = 0;
    if (!PQenterPipelineMode(c)) fail("enter pipeline");
    constexpr std::size_t chunk = 500;
    std::vector<std::uint64_t> be(chunk);
    for (std::size_t start = 0; start < ids.size(); start += chunk) {
      const std::size_t end = std::min(ids.size(), start + chunk);
      for (std::size_t i = start; i < end; ++i) {
        be[i - start] = __builtin_bswap64(static_cast<std::uint64_t>(ids[i]));
        const char* vals[] = {reinterpret_cast<const char*>(&be[i - start])};
        int lens[] = {8};
        int fmts[] = {1};
        if (!PQsendQueryPrepared(c, "w1", 1, vals, lens, fmts, 1)) fail(PQerrorMessage(c));
      }
      if (!PQpipelineSync(c)) fail("pipeline sync");
      for (;;) {
        PGresult* r = PQgetResult(c);
        if (!r) continue;
        auto st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) { PQclear(r); break; }
        if (st != PGRES_TUPLES_OK) fail(std::string("w1 pipelined: ") + PQerrorMessage(c));
        RawAuthor a{get_i64(r, 0, 0), get_str(r, 0, 1), get_str(r, 0, 2), get_i64(r, 0, 3) + pg_epoch_shift_us};
        got += a.id;
        ++rows;
        PQclear(r);
      }
    }
    if (!PQexitPipelineMode(c)) fail("exit pipeline");
    check_eq(rows, w1_lookups, "W1 pipelined rows");
    check_eq(got, want, "W1 pipelined sum of ids");
  }));
  report("W1", "raw-libpq-pipelined", "ops_per_s", w1_lookups / t);
}

void w2(const std::string& dsn) {
  auto ids = lcg_ids(4242, w2_lookups);
  const auto want = sum(ids);
  std::vector<PGconn*> conns;
  for (int i = 0; i < pool_size; ++i) {
    conns.push_back(connect(dsn));
    prepare_w1(conns.back());
  }
  double t = median_of_3(whole([&] {
    std::vector<std::int64_t> sums(pool_size, 0);
    std::vector<std::thread> th;
    for (int k = 0; k < pool_size; ++k)
      th.emplace_back([&, k] {
        std::int64_t s = 0;
        for (std::size_t i = static_cast<std::size_t>(k); i < ids.size(); i += pool_size) s += lookup(conns[k], ids[i]).id;
        sums[k] = s;
      });
    for (auto& x : th) x.join();
    std::int64_t got = 0;
    for (auto s : sums) got += s;
    check_eq(got, want, "W2 sum of ids");
  }));
  report("W2", "raw-libpq", "ops_per_s", w2_lookups / t);
  for (auto* c : conns) PQfinish(c);
}

// --- W3 ---------------------------------------------------------------------------------------

void w3(PGconn* c) {
  const auto want = w3_expect();
  prepare_w3(c);
  double t = median_of_3([&] { return w3_pass(c, want); });
  report("W3", "raw-libpq", "rows_per_s", w3_rows / t);
  report("W3", "raw-libpq", "peak_rss_mb", peak_rss_mb());
}

// --- W4 ---------------------------------------------------------------------------------------

void w4(PGconn* c) {
  const auto want_pages = w4_pages_sum();
  prepare_w4(c);
  double t = median_of_3([&] { return w4_pass(c, want_pages); });
  report("W4", "raw-libpq", "loads_per_s", w4_loads / t);
}

// --- W5 ---------------------------------------------------------------------------------------

struct NewBook {
  std::int64_t id = 0;
  std::int64_t author_id;
  std::string title;
  std::int32_t pages;
  std::string price;  // exact decimal text
  std::int64_t published_us;
};

std::vector<NewBook> w5_objects() {
  std::vector<NewBook> v;
  for (int i = 0; i < w5_rows; ++i)
    v.push_back({0, w5_author(i), w5_title(i), static_cast<std::int32_t>(w5_pages(i)), w5_price_text(i),
                 w5_published_unix_us(i)});
  return v;
}

void w5_verify_and_clean(PGconn* c, const std::vector<NewBook>& books) {
  std::int64_t nz = 0;
  for (const auto& b : books) nz += b.id > 0;
  check_eq(nz, w5_rows, "W5 generated ids returned");
  Res r(PQexec(c, "SELECT count(*), sum(pages) FROM books WHERE title LIKE 'w5-%'"));
  expect(c, r, PGRES_TUPLES_OK, "w5 verify");
  check_eq(std::stoll(PQgetvalue(r, 0, 0)), w5_rows, "W5 count");
  check_eq(std::stoll(PQgetvalue(r, 0, 1)), w5_pages_sum(), "W5 sum(pages)");
  exec(c, "DELETE FROM books WHERE title LIKE 'w5-%'");
  exec(c, "VACUUM books");  // untimed: every pass starts from the same heap and indexes
}

struct InsertParams {
  std::uint64_t author, ts;
  std::uint32_t pages;
  const char* vals[5];
  int lens[5];
  int fmts[5] = {1, 0, 1, 0, 1};
  explicit InsertParams(const NewBook& b) {
    author = __builtin_bswap64(static_cast<std::uint64_t>(b.author_id));
    pages = __builtin_bswap32(static_cast<std::uint32_t>(b.pages));
    ts = __builtin_bswap64(static_cast<std::uint64_t>(b.published_us - pg_epoch_shift_us));
    vals[0] = reinterpret_cast<const char*>(&author);
    vals[1] = b.title.c_str();
    vals[2] = reinterpret_cast<const char*>(&pages);
    vals[3] = b.price.c_str();
    vals[4] = reinterpret_cast<const char*>(&ts);
    lens[0] = 8;
    lens[1] = 0;
    lens[2] = 4;
    lens[3] = 0;
    lens[4] = 8;
  }
  InsertParams(const InsertParams&) = delete;
};

void w5(PGconn* c) {
  exec(c, "DELETE FROM books WHERE title LIKE 'w5-%'");
  exec(c, "VACUUM books");
  Oid types[] = {int8_oid, text_oid, int4_oid, numeric_oid, timestamptz_oid};
  prepare(c, "w5",
          "INSERT INTO books (author_id, title, pages, price, published_at) VALUES ($1, $2, $3, $4, $5) RETURNING id", 5,
          types);

  // One by one.
  double t = median_of_3([&] {
    auto books = w5_objects();
    auto t0 = Clock::now();
    exec(c, "BEGIN");
    for (auto& b : books) {
      InsertParams p(b);
      Res r(PQexecPrepared(c, "w5", 5, p.vals, p.lens, p.fmts, 1));
      expect(c, r, PGRES_TUPLES_OK, "w5 insert");
      b.id = get_i64(r, 0, 0);
    }
    exec(c, "COMMIT");
    double s = seconds_since(t0);
    w5_verify_and_clean(c, books);
    return s;
  });
  report("W5", "raw-libpq", "rows_per_s", w5_rows / t);

  // Pipelined, 500 rows per sync.
  t = median_of_3([&] {
    auto books = w5_objects();
    auto t0 = Clock::now();
    exec(c, "BEGIN");
    if (!PQenterPipelineMode(c)) fail("enter pipeline");
    constexpr std::size_t chunk = 500;
    for (std::size_t start = 0; start < books.size(); start += chunk) {
      const std::size_t end = std::min(books.size(), start + chunk);
      for (std::size_t i = start; i < end; ++i) {
        InsertParams p(books[i]);
        if (!PQsendQueryPrepared(c, "w5", 5, p.vals, p.lens, p.fmts, 1)) fail(PQerrorMessage(c));
      }
      if (!PQpipelineSync(c)) fail("pipeline sync");
      std::size_t i = start;
      for (;;) {
        PGresult* r = PQgetResult(c);
        if (!r) continue;
        auto st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) { PQclear(r); break; }
        if (st != PGRES_TUPLES_OK) fail(std::string("w5 pipelined: ") + PQerrorMessage(c));
        books[i++].id = get_i64(r, 0, 0);
        PQclear(r);
      }
      check(i == end, "W5 pipelined: one result per row");
    }
    if (!PQexitPipelineMode(c)) fail("exit pipeline");
    exec(c, "COMMIT");
    double s = seconds_since(t0);
    w5_verify_and_clean(c, books);
    return s;
  });
  report("W5", "raw-libpq-pipelined", "rows_per_s", w5_rows / t);

  // Binary COPY; the ids come from one nextval() query first.
  t = median_of_3([&] {
    auto books = w5_objects();
    auto t0 = Clock::now();
    exec(c, "BEGIN");
    {
      Res r(PQexecParams(c, "SELECT nextval('books_id_seq') FROM generate_series(1, 10000)", 0, nullptr, nullptr,
                         nullptr, nullptr, 1));
      expect(c, r, PGRES_TUPLES_OK, "w5 nextval");
      check(PQntuples(r) == w5_rows, "W5 ids drawn");
      for (int i = 0; i < w5_rows; ++i) books[static_cast<std::size_t>(i)].id = get_i64(r, i, 0);
    }
    {
      Res r(PQexec(c, "COPY books (id, author_id, title, pages, price, published_at) FROM STDIN (FORMAT binary)"));
      expect(c, r, PGRES_COPY_IN, "w5 copy");
    }
    std::string buf("PGCOPY\n\377\r\n\0", 11);
    put32(buf, 0);
    put32(buf, 0);
    for (const auto& b : books) {
      put16(buf, 6);
      put32(buf, 8); put64(buf, static_cast<std::uint64_t>(b.id));
      put32(buf, 8); put64(buf, static_cast<std::uint64_t>(b.author_id));
      put32(buf, static_cast<std::uint32_t>(b.title.size())); buf += b.title;
      put32(buf, 4); put32(buf, static_cast<std::uint32_t>(b.pages));
      // numeric: cents → base-10000 digits (whole part < 10000 here), dscale 2
      const std::int64_t cents = cents_of(b.price);
      const auto whole = static_cast<std::uint16_t>(cents / 100), frac = static_cast<std::uint16_t>((cents % 100) * 100);
      const std::uint16_t nd = frac ? 2 : 1;
      put32(buf, 8 + 2 * nd); put16(buf, nd); put16(buf, 0); put16(buf, 0); put16(buf, 2); put16(buf, whole);
      if (frac) put16(buf, frac);
      put32(buf, 8); put64(buf, static_cast<std::uint64_t>(b.published_us - pg_epoch_shift_us));
    }
    put16(buf, 0xffff);
    if (PQputCopyData(c, buf.data(), static_cast<int>(buf.size())) != 1) fail(PQerrorMessage(c));
    if (PQputCopyEnd(c, nullptr) != 1) fail(PQerrorMessage(c));
    {
      Res r(PQgetResult(c));
      expect(c, r, PGRES_COMMAND_OK, "w5 copy end");
      while (PGresult* x = PQgetResult(c)) PQclear(x);
    }
    exec(c, "COMMIT");
    double s = seconds_since(t0);
    w5_verify_and_clean(c, books);
    return s;
  });
  report("W5", "raw-libpq-copy", "rows_per_s", w5_rows / t);
}

// --- W6 ---------------------------------------------------------------------------------------

void w6(const std::string& dsn, PGconn* admin) {
  std::vector<PGconn*> conns;
  Oid t4[] = {int4_oid};
  Oid t48[] = {int4_oid, int8_oid};
  for (int i = 0; i < pool_size; ++i) {
    conns.push_back(connect(dsn));
    prepare(conns.back(), "w6s", "SELECT value FROM counters WHERE id = $1 FOR UPDATE", 1, t4);
    prepare(conns.back(), "w6u", "UPDATE counters SET value = $2 WHERE id = $1", 2, t48);
  }
  double t = median_of_3([&] {
    exec(admin, "UPDATE counters SET value = 0");
    auto t0 = Clock::now();
    std::vector<std::thread> th;
    // 8 threads (one connection each) carry the 32 tasks: thread k runs tasks k, k+8, k+16, k+24,
    // interleaving their transactions j = 0..49.
    for (int k = 0; k < pool_size; ++k)
      th.emplace_back([&, k] {
        PGconn* c = conns[k];
        for (int j = 0; j < w6_tx_per_task; ++j)
          for (int task = k; task < w6_tasks; task += pool_size) {
            const std::uint32_t id = static_cast<std::uint32_t>((task + j) % w6_counters + 1);
            std::uint32_t be_id = __builtin_bswap32(id);
            exec(c, "BEGIN");
            std::int64_t v;
            {
              const char* vals[] = {reinterpret_cast<const char*>(&be_id)};
              int lens[] = {4};
              int fmts[] = {1};
              Res r(PQexecPrepared(c, "w6s", 1, vals, lens, fmts, 1));
              expect(c, r, PGRES_TUPLES_OK, "w6 select");
              v = get_i64(r, 0, 0);
            }
            std::uint64_t be_v = __builtin_bswap64(static_cast<std::uint64_t>(v + 1));
            const char* vals[] = {reinterpret_cast<const char*>(&be_id), reinterpret_cast<const char*>(&be_v)};
            int lens[] = {4, 8};
            int fmts[] = {1, 1};
            Res r(PQexecPrepared(c, "w6u", 2, vals, lens, fmts, 1));
            expect(c, r, PGRES_COMMAND_OK, "w6 update");
            exec(c, "COMMIT");
          }
      });
    for (auto& x : th) x.join();
    double s = seconds_since(t0);
    Res r(PQexec(admin, "SELECT sum(value) FROM counters"));
    expect(admin, r, PGRES_TUPLES_OK, "w6 sum");
    check_eq(std::stoll(PQgetvalue(r, 0, 0)), w6_tasks * w6_tx_per_task, "W6 final sum");
    return s;
  });
  report("W6", "raw-libpq", "tx_per_s", w6_tasks * w6_tx_per_task / t);
  for (auto* c : conns) PQfinish(c);
}

}  // namespace

int main(int argc, char** argv) {
  keep_heap();
  auto args = parse_args(argc, argv);
  if (args.dsn.empty()) fail("usage: bench-raw-libpq --dsn postgresql://... [--only Wn]");
  PGconn* c = connect(args.dsn);
  if (args.wants("W1")) { std::fprintf(stderr, "raw-libpq W1\n"); w1(c); }
  if (args.wants("W2")) { std::fprintf(stderr, "raw-libpq W2\n"); w2(args.dsn); }
  if (args.wants("W3")) { std::fprintf(stderr, "raw-libpq W3\n"); w3(c); }
  if (args.wants("W4")) { std::fprintf(stderr, "raw-libpq W4\n"); w4(c); }
  if (args.wants("W5")) { std::fprintf(stderr, "raw-libpq W5\n"); w5(c); }
  if (args.wants("W6")) { std::fprintf(stderr, "raw-libpq W6\n"); w6(args.dsn, c); }
  PQfinish(c);
  return 0;
}
