// raw-libmariadb: the physical-limit baseline on MariaDB / MySQL, the counterpart of raw-libpq.
// MariaDB Connector/C prepared statements (binary protocol), results fetched row by row into
// bound buffers and decoded straight into structs, one connection per thread, no pool. Peer
// printed: raw-libmariadb (W1..W6, one statement per round trip; W5 one-by-one prepared inserts,
// each id read back with mysql_stmt_insert_id).
//
//   bench-raw-libmariadb --dsn mysql://user[:password]@host[:port]/database [--only Wn]

#include <mysql.h>

#include <array>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_map>

#include "common.hpp"

namespace {

using namespace bench;

// --- connection and statements ------------------------------------------------------------------

struct Dsn {
  std::string user, password, host = "127.0.0.1", database;
  unsigned port = 3306;
};

Dsn parse_dsn(const std::string& url) {
  const std::string scheme = "mysql://";
  if (url.rfind(scheme, 0) != 0) fail("bench-raw-libmariadb needs a mysql:// URL, got " + url);
  std::string rest = url.substr(scheme.size());
  if (auto q = rest.find('?'); q != std::string::npos) rest.resize(q);
  Dsn d;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    const std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = cred.find(':'); colon != std::string::npos) {
      d.user = cred.substr(0, colon);
      d.password = cred.substr(colon + 1);
    } else {
      d.user = cred;
    }
  }
  std::string hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    hostport = rest.substr(0, slash);
    d.database = rest.substr(slash + 1);
  }
  if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    d.port = static_cast<unsigned>(std::stoul(hostport.substr(colon + 1)));
    hostport.resize(colon);
  }
  if (!hostport.empty()) d.host = hostport;
  return d;
}

MYSQL* connect(const std::string& url) {
  const Dsn d = parse_dsn(url);
  MYSQL* c = mysql_init(nullptr);
  if (!c) fail("mysql_init");
  if (!mysql_real_connect(c, d.host.c_str(), d.user.c_str(), d.password.empty() ? nullptr : d.password.c_str(),
                          d.database.c_str(), d.port, nullptr, 0))
    fail(std::string("connect: ") + mysql_error(c));
  // As corm's connections: UTC session, utf8mb4.
  if (mysql_query(c, "SET time_zone = '+00:00', NAMES utf8mb4")) fail(std::string("session: ") + mysql_error(c));
  return c;
}

void exec(MYSQL* c, const char* sql) {
  if (mysql_query(c, sql)) fail(std::string(sql) + ": " + mysql_error(c));
  if (MYSQL_RES* r = mysql_store_result(c)) mysql_free_result(r);
}

/// A prepared statement with its parameter and result bindings.
class Stmt {
 public:
  Stmt(MYSQL* c, const std::string& sql) : s_(mysql_stmt_init(c)) {
    if (!s_) fail("mysql_stmt_init");
    if (mysql_stmt_prepare(s_, sql.data(), sql.size())) fail("prepare: " + std::string(mysql_stmt_error(s_)));
    params_.resize(mysql_stmt_param_count(s_));
    results_.resize(mysql_stmt_field_count(s_));
    lengths_.resize(results_.size());
    nulls_.resize(results_.size());
    for (std::size_t i = 0; i < results_.size(); ++i) {
      results_[i].length = &lengths_[i];
      results_[i].is_null = &nulls_[i];
    }
  }
  ~Stmt() { mysql_stmt_close(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  MYSQL_BIND& param(std::size_t i) { return params_[i]; }
  void param_i64(std::size_t i, const long long* v) {
    params_[i] = MYSQL_BIND{};
    params_[i].buffer_type = MYSQL_TYPE_LONGLONG;
    params_[i].buffer = const_cast<long long*>(v);
  }
  void result(std::size_t i, enum_field_types type, void* buf, unsigned long cap = 0) {
    MYSQL_BIND& b = results_[i];
    b.buffer_type = type;
    b.buffer = buf;
    b.buffer_length = cap;
  }
  /// Binds parameters and results (call after setting them) and runs the statement.
  void execute() {
    // The bindings are copied by mysql_stmt_bind_param: bound once, the buffers they point to
    // carry each execution's values.
    if (!params_.empty() && !params_bound_) {
      if (mysql_stmt_bind_param(s_, params_.data())) fail("bind_param: " + err());
      params_bound_ = true;
    }
    if (mysql_stmt_execute(s_)) fail("execute: " + err());
    if (!results_.empty() && !bound_) {
      if (mysql_stmt_bind_result(s_, results_.data())) fail("bind_result: " + err());
      bound_ = true;
    }
  }
  /// Next row into the bound buffers; false at the end.
  bool fetch() {
    const int rc = mysql_stmt_fetch(s_);
    if (rc == MYSQL_NO_DATA) return false;
    if (rc == MYSQL_DATA_TRUNCATED) fail("fetch: a value did not fit its buffer");
    if (rc != 0) fail("fetch: " + err());
    return true;
  }
  unsigned long length(std::size_t i) const { return lengths_[i]; }
  my_ulonglong insert_id() { return mysql_stmt_insert_id(s_); }
  std::string err() { return mysql_stmt_error(s_); }

 private:
  MYSQL_STMT* s_;
  std::vector<MYSQL_BIND> params_;
  std::vector<MYSQL_BIND> results_;
  std::vector<unsigned long> lengths_;
  std::vector<my_bool> nulls_;
  bool bound_ = false;
  bool params_bound_ = false;
};

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t unix_us(const MYSQL_TIME& t) {
  return ((days_from_civil(t.year, t.month, t.day) * 24 + t.hour) * 60 + t.minute) * 60'000'000LL +
         t.second * 1'000'000LL + t.second_part;
}

MYSQL_TIME to_mysql_time(std::int64_t us) {
  std::int64_t secs = us / 1'000'000;
  MYSQL_TIME t{};
  t.second_part = static_cast<unsigned long>(us % 1'000'000);
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  t.hour = static_cast<unsigned>(rem / 3600);
  t.minute = static_cast<unsigned>(rem % 3600 / 60);
  t.second = static_cast<unsigned>(rem % 60);
  // civil_from_days
  days += 719468;
  const std::int64_t era = days / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  t.day = doy - (153 * mp + 2) / 5 + 1;
  t.month = mp < 10 ? mp + 3 : mp - 9;
  t.year = static_cast<unsigned>(static_cast<std::int64_t>(yoe) + era * 400 + (t.month <= 2));
  t.time_type = MYSQL_TIMESTAMP_DATETIME;
  return t;
}

int hex(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

// --- W1 / W2 --------------------------------------------------------------------------------

/// W1's lookup, prepared on one connection.
class Lookup {
 public:
  explicit Lookup(MYSQL* c) : s_(c, "SELECT id, name, email, created_at FROM authors WHERE id = ?") {
    s_.param_i64(0, &id_);
    s_.result(0, MYSQL_TYPE_LONGLONG, &out_id_);
    s_.result(1, MYSQL_TYPE_STRING, name_, sizeof name_);
    s_.result(2, MYSQL_TYPE_STRING, email_, sizeof email_);
    s_.result(3, MYSQL_TYPE_DATETIME, &created_);
  }
  RawAuthor operator()(std::int64_t id) {
    id_ = id;
    s_.execute();
    if (!s_.fetch()) fail("W1: no author " + std::to_string(id));
    RawAuthor a{out_id_, std::string(name_, s_.length(1)), std::string(email_, s_.length(2)), unix_us(created_)};
    if (s_.fetch()) fail("W1: more than one author");
    return a;
  }

 private:
  Stmt s_;
  long long id_ = 0, out_id_ = 0;
  char name_[256], email_[256];
  MYSQL_TIME created_{};
};

void w1(MYSQL* c) {
  auto ids = lcg_ids(42, w1_lookups);
  const auto want = sum(ids);
  Lookup lookup(c);
  double t = median_of_3(whole([&] {
    std::int64_t got = 0;
    for (auto id : ids) got += lookup(id).id;
    check_eq(got, want, "W1 sum of ids");
  }));
  report("W1", "raw-libmariadb", "ops_per_s", w1_lookups / t);
}

void w2(const std::string& dsn) {
  auto ids = lcg_ids(4242, w2_lookups);
  const auto want = sum(ids);
  std::vector<MYSQL*> conns;
  std::vector<std::unique_ptr<Lookup>> lookups;
  for (int i = 0; i < pool_size; ++i) {
    conns.push_back(connect(dsn));
    lookups.push_back(std::make_unique<Lookup>(conns.back()));
  }
  double t = median_of_3(whole([&] {
    std::vector<std::int64_t> sums(pool_size, 0);
    std::vector<std::thread> th;
    for (int k = 0; k < pool_size; ++k)
      th.emplace_back([&, k] {
        mysql_thread_init();
        std::int64_t s = 0;
        for (std::size_t i = static_cast<std::size_t>(k); i < ids.size(); i += pool_size) s += (*lookups[k])(ids[i]).id;
        sums[k] = s;
        mysql_thread_end();
      });
    for (auto& x : th) x.join();
    check_eq(sum(sums), want, "W2 sum of ids");
  }));
  report("W2", "raw-libmariadb", "ops_per_s", w2_lookups / t);
  lookups.clear();
  for (auto* c : conns) mysql_close(c);
}

// --- W3 ---------------------------------------------------------------------------------------

void w3(MYSQL* c) {
  const auto want = w3_expect();
  Stmt s(c, "SELECT id, c_int, c_bigint, c_text, c_varchar, c_numeric, c_float, c_bool, c_ts, c_date, c_uuid FROM items");
  long long id = 0, big = 0;
  int c_int = 0;
  char text[128], varchar[128], numeric[64], uuid[64];
  double f = 0;
  signed char b = 0;
  MYSQL_TIME ts{}, date{};
  s.result(0, MYSQL_TYPE_LONGLONG, &id);
  s.result(1, MYSQL_TYPE_LONG, &c_int);
  s.result(2, MYSQL_TYPE_LONGLONG, &big);
  s.result(3, MYSQL_TYPE_STRING, text, sizeof text);
  s.result(4, MYSQL_TYPE_STRING, varchar, sizeof varchar);
  s.result(5, MYSQL_TYPE_STRING, numeric, sizeof numeric);
  s.result(6, MYSQL_TYPE_DOUBLE, &f);
  s.result(7, MYSQL_TYPE_TINY, &b);
  s.result(8, MYSQL_TYPE_DATETIME, &ts);
  s.result(9, MYSQL_TYPE_DATE, &date);
  s.result(10, MYSQL_TYPE_STRING, uuid, sizeof uuid);
  double t = median_of_3(whole([&] {
    std::vector<RawItem> items;
    items.reserve(w3_rows);
    s.execute();
    while (s.fetch()) {
      RawItem it{id, c_int, big, std::string(text, s.length(3)), std::string(varchar, s.length(4)),
                 cents_of(std::string_view(numeric, s.length(5))), f, b != 0, unix_us(ts),
                 static_cast<std::int32_t>(days_from_civil(date.year, date.month, date.day)), {}};
      if (s.length(10) != 36) fail("W3: a UUID is not 36 characters");
      for (std::size_t i = 0, j = 0; i < 16; ++i) {
        if (uuid[j] == '-') ++j;
        it.c_uuid[i] = static_cast<std::uint8_t>(hex(uuid[j]) << 4 | hex(uuid[j + 1]));
        j += 2;
      }
      items.push_back(std::move(it));
    }
    check_w3(w3_sums(items, [](const RawItem& it) { return it.c_numeric_cents; }), want);
  }));
  report("W3", "raw-libmariadb", "rows_per_s", w3_rows / t);
  report("W3", "raw-libmariadb", "peak_rss_mb", peak_rss_mb());
}

// --- W4 ---------------------------------------------------------------------------------------

void w4(MYSQL* c) {
  const auto want_pages = w4_pages_sum();
  Stmt sa(c, "SELECT id, name, email, created_at FROM authors");
  long long a_id = 0;
  char name[256], email[256];
  MYSQL_TIME created{};
  sa.result(0, MYSQL_TYPE_LONGLONG, &a_id);
  sa.result(1, MYSQL_TYPE_STRING, name, sizeof name);
  sa.result(2, MYSQL_TYPE_STRING, email, sizeof email);
  sa.result(3, MYSQL_TYPE_DATETIME, &created);
  // No array parameters in MySQL: one IN list of 1,000 placeholders, prepared once.
  std::string sql = "SELECT id, author_id, title, pages, price, published_at FROM books WHERE author_id IN (";
  for (int i = 0; i < w4_authors; ++i) sql += i ? ",?" : "?";
  sql += ")";
  Stmt sb(c, sql);
  std::vector<long long> ids(w4_authors);
  for (std::size_t i = 0; i < ids.size(); ++i) sb.param_i64(i, &ids[i]);
  long long b_id = 0, b_author = 0;
  int pages = 0;
  char title[256], price[64];
  MYSQL_TIME published{};
  sb.result(0, MYSQL_TYPE_LONGLONG, &b_id);
  sb.result(1, MYSQL_TYPE_LONGLONG, &b_author);
  sb.result(2, MYSQL_TYPE_STRING, title, sizeof title);
  sb.result(3, MYSQL_TYPE_LONG, &pages);
  sb.result(4, MYSQL_TYPE_STRING, price, sizeof price);
  sb.result(5, MYSQL_TYPE_DATETIME, &published);
  double t = median_of_3(whole([&] {
    for (int load = 0; load < w4_loads; ++load) {
      std::vector<RawAuthorWithBooks> authors;
      std::unordered_map<std::int64_t, std::size_t> by_id;
      authors.reserve(w4_authors);
      sa.execute();
      while (sa.fetch()) {
        authors.push_back({RawAuthor{a_id, std::string(name, sa.length(1)), std::string(email, sa.length(2)),
                                     unix_us(created)},
                           {}});
        by_id.emplace(a_id, authors.size() - 1);
      }
      if (authors.size() != ids.size()) fail("W4: author count");
      for (std::size_t i = 0; i < authors.size(); ++i) ids[i] = authors[i].a.id;
      sb.execute();
      while (sb.fetch()) {
        auto it = by_id.find(b_author);
        if (it == by_id.end()) fail("W4: a book of an unknown author");
        authors[it->second].books.push_back(RawBook{b_id, b_author, std::string(title, sb.length(2)), pages,
                                                    cents_of(std::string_view(price, sb.length(4))),
                                                    unix_us(published)});
      }
      check_w4(authors, want_pages);
    }
  }));
  report("W4", "raw-libmariadb", "loads_per_s", w4_loads / t);
}

// --- W5 ---------------------------------------------------------------------------------------

void w5_verify_and_clean(MYSQL* c, const std::vector<std::int64_t>& ids) {
  std::int64_t nz = 0;
  for (auto id : ids) nz += id > 0;
  check_eq(nz, w5_rows, "W5 generated ids returned");
  if (mysql_query(c, "SELECT COUNT(*), SUM(pages) FROM books WHERE title LIKE 'w5-%'")) fail(mysql_error(c));
  MYSQL_RES* r = mysql_store_result(c);
  MYSQL_ROW row = mysql_fetch_row(r);
  check_eq(std::stoll(row[0]), w5_rows, "W5 count");
  check_eq(std::stoll(row[1]), w5_pages_sum(), "W5 sum(pages)");
  mysql_free_result(r);
  exec(c, "DELETE FROM books WHERE title LIKE 'w5-%'");
}

void w5(MYSQL* c) {
  exec(c, "DELETE FROM books WHERE title LIKE 'w5-%'");
  Stmt s(c, "INSERT INTO books (author_id, title, pages, price, published_at) VALUES (?, ?, ?, ?, ?)");
  long long author = 0;
  int pages = 0;
  char title[64], price[32];
  unsigned long title_len = 0, price_len = 0;
  MYSQL_TIME published{};
  s.param_i64(0, &author);
  MYSQL_BIND& bt = s.param(1);
  bt.buffer_type = MYSQL_TYPE_STRING;
  bt.length = &title_len;
  bt.buffer = title;
  bt.buffer_length = sizeof title;
  MYSQL_BIND& bp = s.param(2);
  bp.buffer_type = MYSQL_TYPE_LONG;
  bp.buffer = &pages;
  MYSQL_BIND& bd = s.param(3);
  bd.buffer_type = MYSQL_TYPE_NEWDECIMAL;
  bd.length = &price_len;
  bd.buffer = price;
  bd.buffer_length = sizeof price;
  MYSQL_BIND& bts = s.param(4);
  bts.buffer_type = MYSQL_TYPE_DATETIME;
  bts.buffer = &published;
  double t = median_of_3([&] {
    std::vector<std::int64_t> ids(w5_rows, 0);
    auto t0 = Clock::now();
    exec(c, "START TRANSACTION");
    for (int i = 0; i < w5_rows; ++i) {
      author = w5_author(i);
      const std::string ti = w5_title(i), pr = w5_price_text(i);
      std::memcpy(title, ti.data(), title_len = ti.size());
      std::memcpy(price, pr.data(), price_len = pr.size());
      pages = static_cast<int>(w5_pages(i));
      published = to_mysql_time(w5_published_unix_us(i));
      s.execute();
      ids[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(s.insert_id());
    }
    exec(c, "COMMIT");
    double secs = seconds_since(t0);
    w5_verify_and_clean(c, ids);
    return secs;
  });
  report("W5", "raw-libmariadb", "rows_per_s", w5_rows / t);
}

// --- W6 ---------------------------------------------------------------------------------------

void w6(const std::string& dsn, MYSQL* admin) {
  std::vector<MYSQL*> conns;
  for (int i = 0; i < pool_size; ++i) conns.push_back(connect(dsn));
  double t = median_of_3([&] {
    exec(admin, "UPDATE counters SET value = 0");
    auto t0 = Clock::now();
    std::vector<std::thread> th;
    // 8 threads (one connection each) carry the 32 tasks: thread k runs tasks k, k+8, k+16, k+24,
    // interleaving their transactions j = 0..49.
    for (int k = 0; k < pool_size; ++k)
      th.emplace_back([&, k] {
        mysql_thread_init();
        MYSQL* c = conns[static_cast<std::size_t>(k)];
        Stmt sel(c, "SELECT value FROM counters WHERE id = ? FOR UPDATE");
        Stmt upd(c, "UPDATE counters SET value = ? WHERE id = ?");
        long long id = 0, value = 0, next = 0;
        sel.param_i64(0, &id);
        sel.result(0, MYSQL_TYPE_LONGLONG, &value);
        upd.param_i64(0, &next);
        upd.param_i64(1, &id);
        for (int j = 0; j < w6_tx_per_task; ++j)
          for (int task = k; task < w6_tasks; task += pool_size) {
            id = (task + j) % w6_counters + 1;
            exec(c, "START TRANSACTION");
            sel.execute();
            if (!sel.fetch()) fail("W6: no counter");
            next = value + 1;
            if (sel.fetch()) fail("W6: two counters");
            upd.execute();
            exec(c, "COMMIT");
          }
        mysql_thread_end();
      });
    for (auto& x : th) x.join();
    double secs = seconds_since(t0);
    if (mysql_query(admin, "SELECT SUM(value) FROM counters")) fail(mysql_error(admin));
    MYSQL_RES* r = mysql_store_result(admin);
    check_eq(std::stoll(mysql_fetch_row(r)[0]), w6_tasks * w6_tx_per_task, "W6 final sum");
    mysql_free_result(r);
    return secs;
  });
  report("W6", "raw-libmariadb", "tx_per_s", w6_tasks * w6_tx_per_task / t);
  for (auto* c : conns) mysql_close(c);
}

}  // namespace

int main(int argc, char** argv) {
  keep_heap();
  auto args = parse_args(argc, argv);
  if (args.dsn.empty()) fail("usage: bench-raw-libmariadb --dsn mysql://user@host:port/database [--only Wn]");
  if (mysql_library_init(0, nullptr, nullptr)) fail("mysql_library_init");
  MYSQL* c = connect(args.dsn);
  if (args.wants("W1")) { std::fprintf(stderr, "raw-libmariadb W1\n"); w1(c); }
  if (args.wants("W2")) { std::fprintf(stderr, "raw-libmariadb W2\n"); w2(args.dsn); }
  if (args.wants("W3")) { std::fprintf(stderr, "raw-libmariadb W3\n"); w3(c); }
  if (args.wants("W4")) { std::fprintf(stderr, "raw-libmariadb W4\n"); w4(c); }
  if (args.wants("W5")) { std::fprintf(stderr, "raw-libmariadb W5\n"); w5(c); }
  if (args.wants("W6")) { std::fprintf(stderr, "raw-libmariadb W6\n"); w6(args.dsn, c); }
  mysql_close(c);
  mysql_library_end();
  return 0;
}
