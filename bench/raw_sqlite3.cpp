// raw-sqlite3: the SQLite baseline — the C API with prepared statements kept for the whole run,
// values decoded straight into structs (timestamps, dates, numerics and UUIDs parsed from the
// text corm's SQLite convention stores). Same file database, same SQL as corm-core-sqlite.
// Workloads W1, W3, W4, W5 (the SQLite set).

#include <sqlite3.h>

#include <array>
#include <cstring>
#include <unordered_map>

#include "common.hpp"

namespace {

using namespace bench;

sqlite3* db = nullptr;

void ok(int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) fail(std::string(what) + ": " + sqlite3_errmsg(db));
}

struct Stmt {
  sqlite3_stmt* s = nullptr;
  explicit Stmt(const char* sql) { ok(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr), sql); }
  ~Stmt() { sqlite3_finalize(s); }
  Stmt(const Stmt&) = delete;
  operator sqlite3_stmt*() const { return s; }
};

void exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) fail(std::string(sql) + ": " + (err ? err : ""));
}

std::string col_str(sqlite3_stmt* s, int i) {
  return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                     static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

// days since 1970-01-01 (Howard Hinnant's days_from_civil)
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
int num(const unsigned char* p, int n) {
  int v = 0;
  for (int i = 0; i < n; ++i) v = v * 10 + (p[i] - '0');
  return v;
}
std::int32_t col_date(sqlite3_stmt* s, int i) {  // 'YYYY-MM-DD'
  const unsigned char* p = sqlite3_column_text(s, i);
  check(sqlite3_column_bytes(s, i) == 10, "date text");
  return static_cast<std::int32_t>(days_from_civil(num(p, 4), static_cast<unsigned>(num(p + 5, 2)),
                                                   static_cast<unsigned>(num(p + 8, 2))));
}
std::int64_t col_ts_us(sqlite3_stmt* s, int i) {  // 'YYYY-MM-DD HH:MM:SS[.ffffff]'
  const unsigned char* p = sqlite3_column_text(s, i);
  const int n = sqlite3_column_bytes(s, i);
  check(n >= 19, "timestamp text");
  std::int64_t days = days_from_civil(num(p, 4), static_cast<unsigned>(num(p + 5, 2)), static_cast<unsigned>(num(p + 8, 2)));
  std::int64_t us = ((days * 24 + num(p + 11, 2)) * 60 + num(p + 14, 2)) * 60 + num(p + 17, 2);
  us *= 1'000'000;
  if (n > 20) {
    int frac = 0, digits = 0;
    for (int k = 20; k < n && digits < 6; ++k, ++digits) frac = frac * 10 + (p[k] - '0');
    for (; digits < 6; ++digits) frac *= 10;
    us += frac;
  }
  return us;
}
std::array<std::uint8_t, 16> col_uuid(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  const int n = sqlite3_column_bytes(s, i);
  std::array<std::uint8_t, 16> out{};
  int nib = 0;
  auto hex = [](unsigned char c) -> int { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (int k = 0; k < n; ++k) {
    if (p[k] == '-') continue;
    out[static_cast<std::size_t>(nib / 2)] = static_cast<std::uint8_t>(out[static_cast<std::size_t>(nib / 2)] << 4 | hex(p[k]));
    ++nib;
  }
  check(nib == 32, "uuid text");
  return out;
}
std::int64_t col_cents(sqlite3_stmt* s, int i) {
  return cents_of(std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                                   static_cast<std::size_t>(sqlite3_column_bytes(s, i))));
}

RawAuthor read_author(sqlite3_stmt* s) {
  return RawAuthor{sqlite3_column_int64(s, 0), col_str(s, 1), col_str(s, 2), col_ts_us(s, 3)};
}

void w1() {
  auto ids = lcg_ids(42, w1_lookups);
  const auto want = sum(ids);
  Stmt st("SELECT id, name, email, created_at FROM authors WHERE id = ?1");
  double t = median_of_3(whole([&] {
    std::int64_t got = 0;
    for (auto id : ids) {
      sqlite3_bind_int64(st, 1, id);
      check(sqlite3_step(st) == SQLITE_ROW, "W1 row");
      got += read_author(st).id;
      check(sqlite3_step(st) == SQLITE_DONE, "W1 one row");
      sqlite3_reset(st);
    }
    check_eq(got, want, "W1 sum of ids");
  }));
  report("W1", "raw-sqlite3", "ops_per_s", w1_lookups / t);
}

void w3() {
  const auto want = w3_expect();
  Stmt st("SELECT id, c_int, c_bigint, c_text, c_varchar, c_numeric, c_float, c_bool, c_ts, c_date, c_uuid FROM items");
  double t = median_of_3(whole([&] {
    std::vector<RawItem> items;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
      items.push_back(RawItem{sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int64(st, 2),
                           col_str(st, 3), col_str(st, 4), col_cents(st, 5), sqlite3_column_double(st, 6),
                           sqlite3_column_int(st, 7) != 0, col_ts_us(st, 8), col_date(st, 9), col_uuid(st, 10)});
    ok(rc, "W3 step");
    sqlite3_reset(st);
    const W3Sums got = w3_sums(items, [](const auto& it) { return it.c_numeric_cents; });
    check_w3(got, want);
  }));
  report("W3", "raw-sqlite3", "rows_per_s", w3_rows / t);
  report("W3", "raw-sqlite3", "peak_rss_mb", peak_rss_mb());
}

void w4() {
  const auto want_pages = w4_pages_sum();
  Stmt sa("SELECT id, name, email, created_at FROM authors");
  Stmt sb("SELECT id, author_id, title, pages, price, published_at FROM books "
          "WHERE author_id IN (SELECT value FROM json_each(?1))");
  auto load = [&] {
    std::vector<RawAuthorWithBooks> authors;
    std::unordered_map<std::int64_t, std::size_t> by_id;
    exec("BEGIN");  // one read snapshot for both statements, as a session's transaction gives
    while (sqlite3_step(sa) == SQLITE_ROW) {
      authors.push_back({read_author(sa), {}});
      by_id.emplace(authors.back().a.id, authors.size() - 1);
    }
    sqlite3_reset(sa);
    std::string json = "[";
    for (const auto& a : authors) {
      if (json.size() > 1) json += ',';
      json += std::to_string(a.a.id);
    }
    json += ']';
    sqlite3_bind_text(sb, 1, json.c_str(), static_cast<int>(json.size()), SQLITE_STATIC);
    while (sqlite3_step(sb) == SQLITE_ROW) {
      RawBook b{sqlite3_column_int64(sb, 0), sqlite3_column_int64(sb, 1), col_str(sb, 2), sqlite3_column_int(sb, 3),
             col_cents(sb, 4), col_ts_us(sb, 5)};
      authors[by_id.at(b.author_id)].books.push_back(std::move(b));
    }
    sqlite3_reset(sb);
    exec("COMMIT");
    check_w4(authors, want_pages);
  };
  double t = median_of_3(whole([&] {
    for (int i = 0; i < w4_loads; ++i) load();
  }));
  report("W4", "raw-sqlite3", "loads_per_s", w4_loads / t);
}

std::string ts_text(std::int64_t unix_us) {
  std::int64_t secs = unix_us / 1'000'000, us = unix_us % 1'000'000;
  std::int64_t days = secs / 86400, rem = secs % 86400;
  // civil_from_days
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld.%06lld", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60), static_cast<long long>(us));
  return buf;
}

struct NewBook {
  std::int64_t id = 0;
  std::int64_t author_id;
  std::string title;
  std::int32_t pages;
  std::string price;
  std::int64_t published_us;
};

void w5() {
  exec("DELETE FROM books WHERE title LIKE 'w5-%'");
  Stmt ins("INSERT INTO books (author_id, title, pages, price, published_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id");
  Stmt ver("SELECT count(*), sum(pages) FROM books WHERE title LIKE 'w5-%'");
  double t = median_of_3([&] {
    std::vector<NewBook> books;
    for (int i = 0; i < w5_rows; ++i)
      books.push_back({0, w5_author(i), w5_title(i), static_cast<std::int32_t>(w5_pages(i)), w5_price_text(i),
                       w5_published_unix_us(i)});
    auto t0 = Clock::now();
    exec("BEGIN");
    for (auto& b : books) {
      const std::string ts = ts_text(b.published_us);
      sqlite3_bind_int64(ins, 1, b.author_id);
      sqlite3_bind_text(ins, 2, b.title.c_str(), static_cast<int>(b.title.size()), SQLITE_STATIC);
      sqlite3_bind_int(ins, 3, b.pages);
      sqlite3_bind_text(ins, 4, b.price.c_str(), static_cast<int>(b.price.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins, 5, ts.c_str(), static_cast<int>(ts.size()), SQLITE_STATIC);
      check(sqlite3_step(ins) == SQLITE_ROW, "W5 RETURNING row");
      b.id = sqlite3_column_int64(ins, 0);
      check(sqlite3_step(ins) == SQLITE_DONE, "W5 insert done");
      sqlite3_reset(ins);
    }
    exec("COMMIT");
    double s = seconds_since(t0);
    std::int64_t nz = 0;
    for (const auto& b : books) nz += b.id > 0;
    check_eq(nz, w5_rows, "W5 generated ids returned");
    check(sqlite3_step(ver) == SQLITE_ROW, "W5 verify");
    check_eq(sqlite3_column_int64(ver, 0), w5_rows, "W5 count");
    check_eq(sqlite3_column_int64(ver, 1), w5_pages_sum(), "W5 sum(pages)");
    sqlite3_reset(ver);
    exec("DELETE FROM books WHERE title LIKE 'w5-%'");
    return s;
  });
  report("W5", "raw-sqlite3", "rows_per_s", w5_rows / t);
}

}  // namespace

int main(int argc, char** argv) {
  keep_heap();
  auto args = parse_args(argc, argv);
  if (args.db.empty()) fail("usage: bench-raw-sqlite3 --db file.sqlite [--only Wn]");
  if (sqlite3_open_v2(args.db.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
    fail(std::string("open: ") + sqlite3_errmsg(db));
  // The settings corm applies to a file database: WAL, foreign keys on, a busy timeout.
  exec("PRAGMA journal_mode = WAL");
  exec("PRAGMA foreign_keys = ON");
  sqlite3_busy_timeout(db, 5000);
  if (args.wants("W1")) { std::fprintf(stderr, "raw-sqlite3 W1\n"); w1(); }
  if (args.wants("W3")) { std::fprintf(stderr, "raw-sqlite3 W3\n"); w3(); }
  if (args.wants("W4")) { std::fprintf(stderr, "raw-sqlite3 W4\n"); w4(); }
  if (args.wants("W5")) { std::fprintf(stderr, "raw-sqlite3 W5\n"); w5(); }
  sqlite3_close(db);
  return 0;
}
