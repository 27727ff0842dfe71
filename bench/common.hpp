#pragma once
// Shared by every benchmark program: the workload constants and expected results from
// docs/benchmarks.md, the LCG, timing (warm-up + median of 3), result checks and the
// stdout contract `W<n> <peer> <metric> <value>` (everything else goes to stderr).

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

inline constexpr int w1_lookups = 20'000;
inline constexpr int w2_lookups = 20'000;
inline constexpr int w2_tasks = 64;
inline constexpr int pool_size = 8;
inline constexpr int w3_rows = 100'000;
inline constexpr int w3_passes = 3;
/// Rows per FETCH of W3's reads through corm on PostgreSQL (`select<Item>().yield_per(n)`,
/// AsyncConnection::stream): SQLAlchemy's customary yield_per.
inline constexpr std::size_t w3_yield_per = 1000;
inline constexpr int w4_authors = 1'000;
inline constexpr int w4_books = 10'000;
inline constexpr int w4_loads = 20;
inline constexpr int w5_rows = 10'000;
inline constexpr int w6_tasks = 32;
inline constexpr int w6_tx_per_task = 50;
inline constexpr int w6_counters = 4;

/// The shared 64-bit LCG: s = s * 6364136223846793005 + 1442695040888963407 (mod 2^64),
/// id = ((s >> 33) % 1000) + 1.
inline std::vector<std::int64_t> lcg_ids(std::uint64_t seed, int n) {
  std::vector<std::int64_t> ids;
  ids.reserve(static_cast<std::size_t>(n));
  std::uint64_t s = seed;
  for (int i = 0; i < n; ++i) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    ids.push_back(static_cast<std::int64_t>((s >> 33) % 1000) + 1);
  }
  return ids;
}

inline std::int64_t sum(const std::vector<std::int64_t>& v) {
  std::int64_t s = 0;
  for (auto x : v) s += x;
  return s;
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "CHECK FAILED: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

inline void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

template <class A, class B>
inline void check_eq(const A& got, const B& want, const std::string& what) {
  if (!(got == want)) fail(what + ": got " + std::to_string(got) + ", want " + std::to_string(want));
}

/// W4's result check, the same for every peer: 1,000 authors, 10 books each, and the sum of
/// their pages. `Authors` is any range of authors with a `books` range of books with `pages`.
/// Plain structs and the ORM's shared_ptr-held objects alike.
template <class T>
const auto& deref(const T& x) {
  if constexpr (requires { *x; }) return *x;
  else return x;
}

template <class Authors>
void check_w4(const Authors& authors, std::int64_t want_pages) {
  std::int64_t pages = 0, books = 0;
  for (const auto& a : authors) {
    check(deref(a).books.size() == 10, "W4: 10 books per author");
    books += static_cast<std::int64_t>(deref(a).books.size());
    for (const auto& b : deref(a).books) pages += deref(b).pages;
  }
  check_eq(static_cast<std::int64_t>(authors.size()), w4_authors, "W4 authors");
  check_eq(books, w4_books, "W4 books");
  check_eq(pages, want_pages, "W4 sum(pages)");
}

// --- expected results, from the seed.sql formulas ----------------------------------------------

/// An author as the raw peers decode it (W1, W4): created_at in microseconds since the Unix epoch.
struct RawAuthor {
  std::int64_t id;
  std::string name;
  std::string email;
  std::int64_t created_at_us;
};

/// A W4 book as the raw peers decode it: the price in hundredths, published_at in microseconds
/// since the Unix epoch.
struct RawBook {
  std::int64_t id;
  std::int64_t author_id;
  std::string title;
  std::int32_t pages;
  std::int64_t price_cents;
  std::int64_t published_us;
};

/// A W4 author with its books, joined in memory by the raw peers.
struct RawAuthorWithBooks {
  RawAuthor a;
  std::vector<RawBook> books;
};

/// A W3 row as the raw peers decode it: binary values, the numeric in hundredths.
struct RawItem {
  std::int64_t id;
  std::int32_t c_int;
  std::int64_t c_bigint;
  std::string c_text;
  std::string c_varchar;
  std::int64_t c_numeric_cents;
  double c_float;
  bool c_bool;
  std::int64_t c_ts_us;
  std::int32_t c_date_days;
  std::array<std::uint8_t, 16> c_uuid;
};

/// W3's four figures: expected from the seed formulas (w3_expect) or measured over the fetched
/// items (w3_sums).
struct W3Sums {
  std::int64_t count = w3_rows;
  std::int64_t sum_int = 0;
  std::int64_t text_len = 0;
  std::int64_t numeric_cents = 0;
};

inline W3Sums w3_expect() {
  W3Sums e;
  for (std::int64_t g = 1; g <= w3_rows; ++g) {
    e.sum_int += (g * 7919) % 100000;
    e.text_len += 10 + 32;  // 'item text ' || md5(g::text)
    e.numeric_cents += (g * 31) % 1000000;
  }
  return e;
}

/// The W3 figures over fetched items (structs or the ORM's shared_ptrs); `cents` reads an item's
/// c_numeric in hundredths (the raw peers decode it so, corm's go through Decimal's text).
template <class Items, class Cents>
W3Sums w3_sums(const Items& items, Cents cents) {
  W3Sums got;
  got.count = static_cast<std::int64_t>(items.size());
  for (const auto& x : items) {
    const auto& it = deref(x);
    got.sum_int += it.c_int;
    got.text_len += static_cast<std::int64_t>(it.c_text.size());
    got.numeric_cents += cents(it);
  }
  return got;
}

inline void check_w3(const W3Sums& got, const W3Sums& want) {
  check_eq(got.count, want.count, "W3 count");
  check_eq(got.sum_int, want.sum_int, "W3 sum(c_int)");
  check_eq(got.text_len, want.text_len, "W3 total length(c_text)");
  check_eq(got.numeric_cents, want.numeric_cents, "W3 sum(c_numeric) in cents");
}

/// Sum of books.pages over the seed data (all 10,000 books).
inline std::int64_t w4_pages_sum() {
  std::int64_t s = 0;
  for (std::int64_t a = 1; a <= w4_authors; ++a)
    for (std::int64_t b = 1; b <= 10; ++b) s += 50 + ((a * 10 + b) * 37) % 900;
  return s;
}

// W5 rows: i in [0, 10000).
inline std::int64_t w5_author(int i) { return i % 1000 + 1; }
inline std::string w5_title(int i) {
  std::string t = "w5-";  // built by append: GCC 12 warns falsely (-Wrestrict) on "w5-" + to_string
  t += std::to_string(i);
  return t;
}
inline std::int64_t w5_pages(int i) { return 100 + i % 400; }
inline std::int64_t w5_price_cents(int i) { return 999 + i % 5000; }
inline std::string w5_price_text(int i) {
  auto c = w5_price_cents(i);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(c / 100), static_cast<long long>(c % 100));
  return buf;
}
/// Microseconds since the Unix epoch: 2020-01-01 00:00:00 UTC + i seconds.
inline std::int64_t w5_published_unix_us(int i) { return (1577836800LL + i) * 1'000'000LL; }
inline std::int64_t w5_pages_sum() {
  std::int64_t s = 0;
  for (int i = 0; i < w5_rows; ++i) s += w5_pages(i);
  return s;
}

/// Parses a numeric's text ("123.45", "-0.5", "7") into hundredths, exactly.
inline std::int64_t cents_of(std::string_view t) {
  bool neg = false;
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) neg = t[i++] == '-';
  std::int64_t whole = 0, frac = 0;
  int fd = 0;
  for (; i < t.size() && t[i] != '.'; ++i) whole = whole * 10 + (t[i] - '0');
  if (i < t.size() && t[i] == '.') {
    ++i;
    for (; i < t.size(); ++i) {
      if (fd < 2) { frac = frac * 10 + (t[i] - '0'); ++fd; }
      else if (t[i] != '0') fail("numeric with more than 2 decimals: " + std::string(t));
    }
  }
  while (fd < 2) { frac *= 10; ++fd; }
  auto v = whole * 100 + frac;
  return neg ? -v : v;
}

// --- timing ---------------------------------------------------------------------------------

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Runs `pass` once as warm-up and 3 times timed; returns the median time in seconds. `pass`
/// does its own result checks and returns the seconds its timed part took (set-up and
/// verification such as W5's count/DELETE stay outside).
inline double median_of_3(const std::function<double()>& pass) {
  pass();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < 3; ++r) t.push_back(pass());
  std::sort(t.begin(), t.end());
  std::fprintf(stderr, "  times: %.4f %.4f %.4f s\n", t[0], t[1], t[2]);
  return t[1];
}

inline void report(std::string_view w, std::string_view peer, std::string_view metric, double value) {
  std::printf("%.*s %.*s %.*s %.1f\n", int(w.size()), w.data(), int(peer.size()), peer.data(), int(metric.size()),
              metric.data(), value);
  std::fflush(stdout);
}

/// A ratio line (three decimals): `W<n> <peer> ratio_to_raw_libpq <value>`.
inline void report_ratio(std::string_view w, std::string_view peer, double value) {
  std::printf("%.*s %.*s ratio_to_raw_libpq %.3f\n", int(w.size()), w.data(), int(peer.size()), peer.data(), value);
  std::fflush(stdout);
}

inline double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

/// Wraps an untimed-setup-free pass: times the whole call.
inline std::function<double()> whole(std::function<void()> f) {
  return [f = std::move(f)] {
    auto t0 = Clock::now();
    f();
    return seconds_since(t0);
  };
}

// --- command line: prog [--dsn URL | --db PATH] [--only W3] ----------------------------------

struct Args {
  std::string dsn;     // PostgreSQL URL (postgresql://...)
  std::string db;      // SQLite file path
  std::string only;    // run just this workload (W1..W6); empty = all
  bool begin_first = false;  // --begin-first: EngineOptions::defer_begin_past_reads off (the A/B)
  bool identity_map = true;  // --no-identity-map: skip W1's identity-map pass (to profile get() alone)
  std::string replica_dsn;   // --replica-dsn: a standby of --dsn; W1 also runs routed (corm-orm-async)
  bool wants(std::string_view w) const { return only.empty() || only == w; }
};

/// Every program's first call: freed memory stays with the process. By default glibc gives a
/// large freed block back to the kernel (its mmap and trim thresholds), so a pass that frees
/// W3's 26 MB result faults the same pages in again on the next pass — 0.265 s a raw-libpq pass
/// against 0.107 s with a kept heap. A peer whose own work left the heap grown then
/// lent its raw baseline a warm heap, and one that did not (a corm peer reading in slices) a
/// cold one: the same-process ratio measured glibc, not the peer. Kept by every program alike.
inline void keep_heap() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's maximum
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

inline Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) fail("missing value after " + std::string(s));
      return argv[++i];
    };
    if (s == "--dsn") a.dsn = next();
    else if (s == "--db") a.db = next();
    else if (s == "--only") a.only = next();
    else if (s == "--begin-first") a.begin_first = true;
    else if (s == "--no-identity-map") a.identity_map = false;
    else if (s == "--replica-dsn") a.replica_dsn = next();
    else fail("unknown argument " + std::string(s));
  }
  if (a.dsn.empty()) {
    if (const char* e = std::getenv("BENCH_DSN")) a.dsn = e;
  }
  return a;
}

}  // namespace bench
