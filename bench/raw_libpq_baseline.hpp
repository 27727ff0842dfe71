#pragma once
// raw-libpq, the physical-limit baseline: libpq with prepared statements and binary results
// decoded straight into structs. Shared by bench-raw-libpq (every workload) and the corm peers,
// which time W1, W3 and W4 through it in their own process, pass for pass alternating with their
// own (bench::raw::Baseline, bench::paired), so that a ratio is taken on one machine state:
// between two processes a minute apart a loopback round trip moves by ±20 %, more than the
// difference being measured.

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.hpp"

namespace bench::raw {

// --- binary helpers ---------------------------------------------------------------------------

inline std::uint16_t rd16(const char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline std::uint32_t rd32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline std::uint64_t rd64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline void put16(std::string& b, std::uint16_t v) { v = __builtin_bswap16(v); b.append(reinterpret_cast<char*>(&v), 2); }
inline void put32(std::string& b, std::uint32_t v) { v = __builtin_bswap32(v); b.append(reinterpret_cast<char*>(&v), 4); }
inline void put64(std::string& b, std::uint64_t v) { v = __builtin_bswap64(v); b.append(reinterpret_cast<char*>(&v), 8); }

inline constexpr std::int64_t pg_epoch_shift_us = 946684800LL * 1'000'000LL;  // 2000-01-01 - 1970-01-01

inline std::int64_t get_i64(const PGresult* r, int row, int col) { return static_cast<std::int64_t>(rd64(PQgetvalue(r, row, col))); }
inline std::int32_t get_i32(const PGresult* r, int row, int col) { return static_cast<std::int32_t>(rd32(PQgetvalue(r, row, col))); }
inline std::string get_str(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
}
/// Binary numeric (base-10000 digits) → hundredths. Exact for scale ≤ 2.
inline std::int64_t get_cents(const PGresult* r, int row, int col) {
  const char* p = PQgetvalue(r, row, col);
  const int ndigits = static_cast<std::int16_t>(rd16(p));
  const int weight = static_cast<std::int16_t>(rd16(p + 2));
  const int sign = rd16(p + 4);
  std::int64_t units = 0;  // in 1/10000
  for (int i = 0; i < ndigits; ++i) {
    std::int64_t d = rd16(p + 8 + 2 * i);
    int e = weight - i;  // d * 10000^e
    if (e >= 0) {
      for (int k = 0; k < e + 1; ++k) d *= 10000;
      units += d;
    } else if (e == -1) {
      units += d;
    } else {
      check(d == 0, "numeric beyond 4 decimals");
    }
  }
  check(units % 100 == 0, "numeric beyond 2 decimals");
  std::int64_t cents = units / 100;
  return sign == 0x4000 ? -cents : cents;
}
inline double get_f64(const PGresult* r, int row, int col) {
  auto u = rd64(PQgetvalue(r, row, col));
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}

// --- connections ------------------------------------------------------------------------------

inline PGconn* connect(const std::string& dsn) {
  PGconn* c = PQconnectdb(dsn.c_str());
  if (PQstatus(c) != CONNECTION_OK) fail(std::string("connect: ") + PQerrorMessage(c));
  return c;
}

struct Res {
  PGresult* r;
  explicit Res(PGresult* p) : r(p) {}
  ~Res() { PQclear(r); }
  Res(const Res&) = delete;
  operator const PGresult*() const { return r; }
};

inline void expect(PGconn* c, const PGresult* r, ExecStatusType want, const char* what) {
  if (PQresultStatus(r) != want) fail(std::string(what) + ": " + PQerrorMessage(c));
}

inline void exec(PGconn* c, const char* sql) {
  Res r(PQexec(c, sql));
  auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(std::string(sql) + ": " + PQerrorMessage(c));
}

inline void prepare(PGconn* c, const char* name, const char* sql, int n, const Oid* types) {
  Res r(PQprepare(c, name, sql, n, types));
  expect(c, r, PGRES_COMMAND_OK, name);
}

inline constexpr Oid int8_oid = 20, int4_oid = 23, text_oid = 25, numeric_oid = 1700, timestamptz_oid = 1184,
              int8_array_oid = 1016;

// --- W1/W2 ------------------------------------------------------------------------------------

inline const char* const w1_sql = "SELECT id, name, email, created_at FROM authors WHERE id = $1";

inline void prepare_w1(PGconn* c) {
  Oid t[] = {int8_oid};
  prepare(c, "w1", w1_sql, 1, t);
}

inline RawAuthor lookup(PGconn* c, std::int64_t id) {
  std::uint64_t be = __builtin_bswap64(static_cast<std::uint64_t>(id));
  const char* vals[] = {reinterpret_cast<const char*>(&be)};
  int lens[] = {8};
  int fmts[] = {1};
  Res r(PQexecPrepared(c, "w1", 1, vals, lens, fmts, 1));
  expect(c, r, PGRES_TUPLES_OK, "w1 lookup");
  check(PQntuples(r) == 1, "w1: one row");
  return RawAuthor{get_i64(r, 0, 0), get_str(r, 0, 1), get_str(r, 0, 2), get_i64(r, 0, 3) + pg_epoch_shift_us};
}

inline const char* const w3_sql =
    "SELECT id, c_int, c_bigint, c_text, c_varchar, c_numeric, c_float, c_bool, c_ts, c_date, c_uuid FROM items";

inline void prepare_w3(PGconn* c) { prepare(c, "w3", w3_sql, 0, nullptr); }

/// W3's fetch: every row of items decoded into an Item.
inline std::vector<RawItem> fetch_items(PGconn* c) {
  std::vector<RawItem> items;
  Res r(PQexecPrepared(c, "w3", 0, nullptr, nullptr, nullptr, 1));
  expect(c, r, PGRES_TUPLES_OK, "w3");
  const int n = PQntuples(r);
  items.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    RawItem it{get_i64(r, i, 0), get_i32(r, i, 1), get_i64(r, i, 2), get_str(r, i, 3), get_str(r, i, 4),
            get_cents(r, i, 5), get_f64(r, i, 6), *PQgetvalue(r, i, 7) != 0, get_i64(r, i, 8) + pg_epoch_shift_us,
            get_i32(r, i, 9) + 10957, {}};
    std::memcpy(it.c_uuid.data(), PQgetvalue(r, i, 10), 16);
    items.push_back(std::move(it));
  }
  return items;
}

/// One W1 pass: every id looked up one statement per round trip; returns the seconds it took.
inline double w1_pass(PGconn* c, const std::vector<std::int64_t>& ids, std::int64_t want) {
  auto t0 = Clock::now();
  std::int64_t got = 0;
  for (auto id : ids) got += lookup(c, id).id;
  const double s = seconds_since(t0);
  check_eq(got, want, "W1 sum of ids");
  return s;
}

/// One W3 pass: fetch, decode and check; returns the seconds it took.
inline double w3_pass(PGconn* c, const W3Sums& want) {
  auto t0 = Clock::now();
  auto items = fetch_items(c);
  bench::check_w3(w3_sums(items, [](const RawItem& it) { return it.c_numeric_cents; }), want);
  return seconds_since(t0);
}

// --- W4 ---------------------------------------------------------------------------------------

inline void prepare_w4(PGconn* c) {
  prepare(c, "w4a", "SELECT id, name, email, created_at FROM authors", 0, nullptr);
  Oid t8a[] = {int8_array_oid};
  prepare(c, "w4b", "SELECT id, author_id, title, pages, price, published_at FROM books WHERE author_id = ANY($1)", 1,
          t8a);
}

/// One W4 load: the authors, then their books by one array of ids, joined in memory.
inline void w4_load(PGconn* c, std::int64_t want_pages) {
  std::vector<RawAuthorWithBooks> authors;
  std::unordered_map<std::int64_t, std::size_t> by_id;
  {
    Res r(PQexecPrepared(c, "w4a", 0, nullptr, nullptr, nullptr, 1));
    expect(c, r, PGRES_TUPLES_OK, "w4 authors");
    const int n = PQntuples(r);
    authors.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      authors.push_back({RawAuthor{get_i64(r, i, 0), get_str(r, i, 1), get_str(r, i, 2), get_i64(r, i, 3) + pg_epoch_shift_us}, {}});
      by_id.emplace(authors.back().a.id, authors.size() - 1);
    }
  }
  std::string arr = "{";
  for (const auto& a : authors) {
    if (arr.size() > 1) arr += ',';
    arr += std::to_string(a.a.id);
  }
  arr += '}';
  const char* vals[] = {arr.c_str()};
  Res r(PQexecPrepared(c, "w4b", 1, vals, nullptr, nullptr, 1));
  expect(c, r, PGRES_TUPLES_OK, "w4 books");
  const int n = PQntuples(r);
  for (int i = 0; i < n; ++i) {
    RawBook b{get_i64(r, i, 0), get_i64(r, i, 1), get_str(r, i, 2), get_i32(r, i, 3), get_cents(r, i, 4),
           get_i64(r, i, 5) + pg_epoch_shift_us};
    authors[by_id.at(b.author_id)].books.push_back(std::move(b));
  }
  check_w4(authors, want_pages);
}

/// One W4 pass: w4_loads loads; returns the seconds it took.
inline double w4_pass(PGconn* c, std::int64_t want_pages) {
  auto t0 = Clock::now();
  for (int i = 0; i < w4_loads; ++i) w4_load(c, want_pages);
  return seconds_since(t0);
}

/// A raw-libpq connection inside a corm peer's process, W1's, W3's and W4's statements prepared.
class Baseline {
 public:
  explicit Baseline(const std::string& dsn) : c_(connect(dsn)) {
    prepare_w1(c_);
    prepare_w3(c_);
    prepare_w4(c_);
  }
  ~Baseline() { PQfinish(c_); }
  Baseline(const Baseline&) = delete;
  Baseline& operator=(const Baseline&) = delete;
  PGconn* conn() const { return c_; }

 private:
  PGconn* c_;
};

}  // namespace bench::raw

namespace bench {

/// Three passes of a corm peer, each paired with a raw-libpq pass run next to it in the same
/// process. The order is c r r c c r after a warm-up of each (c1 r1 | r2 c2 | c3 r3), so a drift
/// of the machine's state during the six passes weighs on both sides alike.
struct PairedTimes {
  std::vector<double> corm, raw;

  /// The median of the corm passes, in seconds.
  double corm_median() const { return median(corm); }
  /// The median over the pairs of raw time / corm time: corm's throughput as a fraction of raw
  /// libpq's, measured seconds apart.
  double ratio_median() const {
    std::vector<double> r;
    for (std::size_t i = 0; i < corm.size(); ++i) r.push_back(raw[i] / corm[i]);
    return median(r);
  }
  /// Prints the pairs to stderr, then `<w> <peer> <metric> <units per corm second>` and the
  /// ratio line to stdout.
  void report(const char* w, const char* peer, const char* metric, double units) const {
    std::fprintf(stderr, "  %s pairs (corm s / raw s):", w);
    for (std::size_t i = 0; i < corm.size(); ++i) std::fprintf(stderr, " %.4f/%.4f", corm[i], raw[i]);
    std::fprintf(stderr, "  ratio %.3f\n", ratio_median());
    bench::report(w, peer, metric, units / corm_median());
    report_ratio(w, peer, ratio_median());
  }

 private:
  static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
};

/// Runs the pairs with synchronous passes (`double()` each, returning its seconds).
/// `after_first` runs once the first corm pass is done and before any raw pass (W3 reads the
/// peer's own peak memory there).
template <class CormPass, class RawPass>
PairedTimes paired(CormPass corm, RawPass raw, const std::function<void()>& after_first = {}) {
  PairedTimes p;
  corm();  // warm-up
  p.corm.push_back(corm());
  if (after_first) after_first();
  raw();  // warm-up
  p.raw.push_back(raw());
  p.raw.push_back(raw());
  p.corm.push_back(corm());
  p.corm.push_back(corm());
  p.raw.push_back(raw());
  return p;
}

}  // namespace bench
