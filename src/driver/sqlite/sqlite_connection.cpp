#include "driver/sqlite/sqlite_connection.hpp"

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cctype>
#include <climits>
#include <cmath>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "corm/core/error.hpp"
#include "core/temporal.hpp"
#include "driver/sqlite/sqlite_error.hpp"
#include "driver/session_state.hpp"
#include "driver/sqlite/statement_cache.hpp"

namespace corm::driver::sqlite {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view accepted_options = "mode=ro|rw|rwc|memory, cache=shared|private, immutable=0|1";

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Skips whitespace and comments; returns the offset of the first token.
std::size_t skip_blank(std::string_view sql, std::size_t i = 0) {
  while (i < sql.size()) {
    if (is_space(sql[i])) {
      ++i;
    } else if (sql.compare(i, 2, "--") == 0) {
      const auto nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.compare(i, 2, "/*") == 0) {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return i;
}

// Whether the statement's changes count is meaningful: sqlite3_changes64 keeps the count of the
// last INSERT/UPDATE/DELETE, so after DDL or a PRAGMA it would report a stale number.
bool is_dml(std::string_view sql) {
  const auto i = skip_blank(sql);
  std::string word;
  for (std::size_t j = i; j < sql.size() && std::isalpha(static_cast<unsigned char>(sql[j])); ++j)
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(sql[j]))));
  return word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "REPLACE" || word == "WITH";
}

// A ROLLBACK of the whole transaction (not ROLLBACK TO a savepoint), alone in the text.
bool is_plain_rollback(std::string_view sql) noexcept {
  std::size_t i = skip_blank(sql);
  const auto keyword = [&](std::string_view word) {
    if (sql.size() - i < word.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k)
      if (std::toupper(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
    const std::size_t end = i + word.size();
    if (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) return false;
    i = skip_blank(sql, end);
    return true;
  };
  if (!keyword("ROLLBACK")) return false;
  (void)keyword("TRANSACTION");
  if (i < sql.size() && sql[i] == ';') i = skip_blank(sql, i + 1);
  return i == sql.size();
}

ErrorDetail statement_detail(std::string_view sql) {
  ErrorDetail d;
  d.statement = sql;
  return d;
}

// SQLite URI filename: only '%', '?' and '#' are special in the path part.
std::string uri_filename(const Url& url) {
  std::string out = "file:";
  if (url.is_memory()) {
    out += ":memory:";
  } else {
    // An absolute path gets an empty authority ("file:///abs") so "//x" is never read as a host.
    if (url.database().starts_with('/')) out += "//";
    for (char c : url.database()) {
      if (c == '%') out += "%25";
      else if (c == '?') out += "%3F";
      else if (c == '#') out += "%23";
      else out.push_back(c);
    }
  }
  char sep = '?';
  for (const auto& [key, value] : url.query()) {
    out += sep;
    out += key + "=" + value;
    sep = '&';
  }
  return out;
}

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db, const Url& url, const ConnectOptions& options)
      : db_(db),
        cache_(options.statement_cache_size),
        busy_timeout_(options.sqlite_busy_timeout),
        statement_timeout_(options.statement_timeout) {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout_.count()));
    // Always installed: it serves statement_timeout and cancel() alike (every 1000 VM steps).
    sqlite3_progress_handler(db_, 1000, &SqliteConnection::on_progress, this);
    setup(url, options);
  }
  ~SqliteConnection() override { close(); }

  Dialect dialect() const noexcept override { return Dialect::sqlite; }
  std::shared_ptr<const ResultSet> execute(std::string_view sql, std::span<const Value> params) override;
  void execute_script(std::string_view sql) override;
  /// A connection that ran a PRAGMA, ATTACH or made temporary objects is closed rather than
  /// pooled: nothing short of reopening restores what corm set up at connect.
  bool reset_session() noexcept override { return !session_touched_; }
  bool ping() noexcept override {
    try {
      execute("SELECT 1", {});
      return true;
    } catch (...) {
      return false;
    }
  }
  bool is_broken() const noexcept override { return db_ == nullptr || broken_; }
  bool in_transaction() const noexcept override { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }
  int backend_pid() const noexcept override { return 0; }
  // sqlite3_interrupt is documented as safe from any thread while the handle is open; callers
  // only cancel while a statement of theirs is running, so the handle cannot close meanwhile.
  // The flag also catches a statement that has not started yet, which sqlite3_interrupt alone
  // would miss; the next execute consumes it.
  bool cancel() noexcept override {
    if (db_ == nullptr) return false;
    cancel_requested_.store(true);
    sqlite3_interrupt(db_);
    return true;
  }
  void reset_cancel() noexcept override { cancel_requested_.store(false); }
  // SQLite ends a transaction by itself on some errors (an interrupted write, SQLITE_FULL,
  // SQLITE_IOERR, SQLITE_NOMEM, SQLITE_BUSY in some cases): the ROLLBACK that follows would
  // fail with "no transaction is active". Rolling back nothing is a success, as on PostgreSQL
  // (where it is a warning).
  bool no_transaction_to_roll_back(std::string_view sql) const noexcept {
    return sqlite3_get_autocommit(db_) != 0 && is_plain_rollback(sql);
  }
  void close() noexcept override {
    cache_.clear();
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

 private:
  // Resets a statement after use so a cached one starts clean (and its bindings, which point
  // into the caller's parameters, are dropped); finalizes it when the cache did not take it.
  struct StmtGuard {
    sqlite3_stmt* stmt;
    bool owned;
    ~StmtGuard() {
      if (owned) {
        sqlite3_finalize(stmt);
      } else {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
      }
    }
  };

  // Runs `sql` once during setup, where any failure means the database cannot be used.
  // `PRAGMA journal_mode = WAL` takes a lock that SQLite refuses at once (SQLITE_BUSY, without
  // calling the busy handler) while other connections use the file — pools opening several
  // connections together hit it — so a busy setup statement is retried for up to busy_timeout.
  void setup_exec(const char* sql, const Url& url) {
    char* err = nullptr;
    const auto deadline = std::chrono::steady_clock::now() + busy_timeout_;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    while ((rc & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline) {
      sqlite3_free(err);
      err = nullptr;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    }
    if (rc == SQLITE_OK) return;
    const std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    const int code = sqlite3_extended_errcode(db_);
    close();
    throw_error(code, msg, sql, Phase::open, busy_timeout_, url.database());
  }

  void setup(const Url& url, const ConnectOptions& options) {
    const auto mode = url.query().find("mode");
    const bool read_only = mode != url.query().end() && mode->second == "ro";
    // Reading the schema forces SQLite to read the file header, so a file that is not a
    // database fails here, as a ConnectError, instead of on the first query.
    setup_exec("SELECT count(*) FROM sqlite_schema", url);
    if (options.sqlite_foreign_keys) setup_exec("PRAGMA foreign_keys = ON", url);
    if (options.sqlite_wal && !url.is_memory() && !read_only &&
        (mode == url.query().end() || mode->second != "memory"))
      setup_exec("PRAGMA journal_mode = WAL", url);
    // SQLite honours READ UNCOMMITTED only between shared-cache connections; every other level
    // is SERIALIZABLE already.
    if (options.isolation_level == IsolationLevel::read_uncommitted) setup_exec("PRAGMA read_uncommitted = 1", url);
  }

  void require_open() const {
    if (db_ == nullptr) throw UsageError("this SQLite connection is closed; get a new one from the engine");
  }

  [[noreturn]] void fail(int code, std::string_view sql) {
    const std::string msg = sqlite3_errmsg(db_);
    if (poisons_connection(code)) broken_ = true;
    throw_error(code, msg, sql, Phase::statement, busy_timeout_);
  }

  static int on_progress(void* self) noexcept {
    auto* c = static_cast<SqliteConnection*>(self);
    if (c->cancel_requested_.load(std::memory_order_relaxed)) return 1;
    return c->deadline_ && Clock::now() > *c->deadline_ ? 1 : 0;
  }

  // Arms statement_timeout for the duration of one call.
  struct DeadlineScope {
    SqliteConnection& c;
    explicit DeadlineScope(SqliteConnection& conn) : c(conn) {
      if (c.cancel_requested_.exchange(false)) throw QueryCanceled("the statement was cancelled before it started");
      if (c.statement_timeout_.count() > 0) c.deadline_ = Clock::now() + c.statement_timeout_;
    }
    ~DeadlineScope() {
      c.deadline_.reset();
      c.cancel_requested_.store(false);  // a cancel that arrived during this call is spent
    }
  };

  sqlite3_stmt* prepare(std::string_view sql, bool& owned);
  void bind(sqlite3_stmt* stmt, std::string_view sql, std::span<const Value> params);

  sqlite3* db_;
  StatementCache cache_;
  std::chrono::milliseconds busy_timeout_;
  std::chrono::milliseconds statement_timeout_;
  std::optional<Clock::time_point> deadline_;
  std::atomic<bool> cancel_requested_{false};
  bool broken_ = false;
  bool session_touched_ = false;  // see reset_session()
};

sqlite3_stmt* SqliteConnection::prepare(std::string_view sql, bool& owned) {
  owned = false;
  if (sqlite3_stmt* cached = cache_.find(sql)) return cached;
  if (sql.size() > static_cast<std::size_t>(INT_MAX))
    throw DataError("the SQL text is larger than SQLite accepts (2 GiB)");
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const unsigned flags = cache_.capacity() > 0 ? SQLITE_PREPARE_PERSISTENT : 0;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &stmt, &tail);
  if (rc != SQLITE_OK) fail(rc, sql);
  if (stmt == nullptr) throw UsageError("no SQL statement to run: the text holds only whitespace or comments");
  // A second statement would be silently ignored by SQLite; refuse it, as text() does. A tail of
  // comments prepares to no statement and is fine.
  const std::string_view rest = sql.substr(static_cast<std::size_t>(tail - sql.data()));
  if (skip_blank(rest) < rest.size()) {
    sqlite3_stmt* second = nullptr;
    const int rc2 = sqlite3_prepare_v2(db_, rest.data(), static_cast<int>(rest.size()), &second, nullptr);
    const bool has_second = rc2 != SQLITE_OK || second != nullptr;
    sqlite3_finalize(second);
    if (has_second) {
      sqlite3_finalize(stmt);
      throw UsageError("the SQL holds more than one statement; run them one at a time, or use "
                       "execute_script() for a script without parameters",
                       statement_detail(sql));
    }
  }
  owned = !cache_.insert(sql, stmt);
  return stmt;
}

void SqliteConnection::bind(sqlite3_stmt* stmt, std::string_view sql, std::span<const Value> params) {
  const int expected = sqlite3_bind_parameter_count(stmt);
  if (params.size() != static_cast<std::size_t>(expected))
    throw UsageError("the statement has " + std::to_string(expected) + " parameter placeholder(s) but " +
                         std::to_string(params.size()) + " value(s) were given",
                     statement_detail(sql));
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int n = static_cast<int>(i + 1);
    // The parameters outlive the step loop (they are the caller's), so text and blobs are bound
    // without a copy (SQLITE_STATIC); formatted temporaries are copied (SQLITE_TRANSIENT).
    const int rc = std::visit(
        [&](const auto& v) -> int {
          using T = std::decay_t<decltype(v)>;
          auto text = [&](const std::string& s, sqlite3_destructor_type how) {
            return sqlite3_bind_text64(stmt, n, s.data(), s.size(), how, SQLITE_UTF8);
          };
          if constexpr (std::is_same_v<T, Null>) {
            return sqlite3_bind_null(stmt, n);
          } else if constexpr (std::is_same_v<T, bool>) {
            return sqlite3_bind_int(stmt, n, v ? 1 : 0);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            return sqlite3_bind_int64(stmt, n, v);
          } else if constexpr (std::is_same_v<T, double>) {
            if (std::isnan(v))
              throw DataError("parameter " + std::to_string(n) + " is NaN, which SQLite would store as NULL; "
                              "bind corm::Null{} if NULL is meant");
            return sqlite3_bind_double(stmt, n, v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            return text(v, SQLITE_STATIC);
          } else if constexpr (std::is_same_v<T, Bytes>) {
            // An empty vector may have a null data(), which SQLite would bind as NULL.
            if (v.empty()) return sqlite3_bind_zeroblob(stmt, n, 0);
            return sqlite3_bind_blob64(stmt, n, v.data(), v.size(), SQLITE_STATIC);
          } else if constexpr (std::is_same_v<T, Timestamp>) {
            return text(detail::format_timestamp(v), SQLITE_TRANSIENT);
          } else if constexpr (std::is_same_v<T, Date>) {
            return text(detail::format_date(v), SQLITE_TRANSIENT);
          } else if constexpr (std::is_same_v<T, Decimal>) {
            return text(v.str(), SQLITE_TRANSIENT);
          } else if constexpr (std::is_same_v<T, Uuid>) {
            return text(v.str(), SQLITE_TRANSIENT);
          } else if constexpr (std::is_same_v<T, Json>) {
            return text(v.text, SQLITE_STATIC);
          } else {
            static_assert(std::is_same_v<T, Array>);
            throw UsageError("parameter " + std::to_string(n) +
                                 " is an array; arrays are PostgreSQL-only. On SQLite, expand the list into "
                                 "one placeholder per item (col IN (?1, ?2, ...)) or pass JSON and use json_each()",
                             statement_detail(sql));
          }
        },
        params[i].storage());
    if (rc != SQLITE_OK) fail(rc, sql);
  }
}

std::shared_ptr<const ResultSet> SqliteConnection::execute(std::string_view sql, std::span<const Value> params) {
  require_open();
  if (params.empty() && no_transaction_to_roll_back(sql)) return std::make_shared<BufferedResultSet>();
  // SQLite would refuse the text as "too many SQL variables", which reads like a mistake in it.
  if (const int limit = sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
      params.size() > static_cast<std::size_t>(limit))
    throw DataError("a statement can bind at most " + std::to_string(limit) + " values on SQLite, and this one binds " +
                        std::to_string(params.size()) +
                        "; split it into several statements in the same transaction (e.g. insert the rows in "
                        "chunks: Session's flush does this by itself)",
                    statement_detail(sql));
  if (!session_touched_) session_touched_ = session_state::sqlite_changes_session(sql);
  bool owned = false;
  sqlite3_stmt* stmt = prepare(sql, owned);
  StmtGuard guard{stmt, owned};
  bind(stmt, sql, params);

  auto rs = std::make_shared<BufferedResultSet>();
  DeadlineScope deadline(*this);
  int ncol = 0;
  for (bool first = true;; first = false) {
    const int rc = sqlite3_step(stmt);
    if (first) {
      // Columns are read after the first step: a cached statement whose table changed shape is
      // re-prepared by that step, and only then reports the new columns.
      ncol = sqlite3_column_count(stmt);
      std::vector<std::string> names;
      names.reserve(static_cast<std::size_t>(ncol));
      for (int c = 0; c < ncol; ++c) {
        const char* name = sqlite3_column_name(stmt, c);
        names.emplace_back(name != nullptr ? name : "");
      }
      rs->set_columns(std::move(names));
    }
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(rc, sql);
    for (int c = 0; c < ncol; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER: rs->push_int(sqlite3_column_int64(stmt, c)); break;
        case SQLITE_FLOAT: rs->push_real(sqlite3_column_double(stmt, c)); break;
        case SQLITE_TEXT: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          const auto len = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
          rs->push_text(std::string_view(p != nullptr ? p : "", len));
          break;
        }
        case SQLITE_BLOB: {
          const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
          const auto len = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
          rs->push_blob(p != nullptr ? std::string_view(p, len) : std::string_view{});
          break;
        }
        default: rs->push_null(); break;
      }
    }
  }
  rs->set_affected_rows(sqlite3_stmt_readonly(stmt) == 0 && is_dml(sql) ? sqlite3_changes64(db_) : -1);
  return rs;
}

void SqliteConnection::execute_script(std::string_view sql) {
  require_open();
  if (no_transaction_to_roll_back(sql)) return;
  if (!session_touched_) session_touched_ = session_state::sqlite_changes_session(sql);
  const std::string script(sql);  // sqlite3_exec needs a NUL-terminated string
  DeadlineScope deadline(*this);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return;
  const std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
  sqlite3_free(err);
  const int code = sqlite3_extended_errcode(db_);
  if (poisons_connection(code)) broken_ = true;
  throw_error(code, msg, sql, Phase::statement, busy_timeout_);
}

}  // namespace

void validate(const Url& url, const ConnectOptions& options) {
  if (url.dialect() != Dialect::sqlite)
    throw ConfigError("the SQLite driver was given a " + std::string(dialect_name(url.dialect())) + " URL");
  for (const auto& [key, value] : url.query()) {
    bool ok = false;
    if (key == "mode") ok = value == "ro" || value == "rw" || value == "rwc" || value == "memory";
    else if (key == "cache") ok = value == "shared" || value == "private";
    else if (key == "immutable") ok = value == "0" || value == "1";
    else
      throw ConfigError("unknown SQLite URL option '" + key + "'; accepted options: " + std::string(accepted_options));
    if (!ok)
      throw ConfigError("invalid value '" + value + "' for SQLite URL option '" + key +
                        "'; accepted options: " + std::string(accepted_options));
  }
  if (options.sqlite_busy_timeout.count() < 0 || options.sqlite_busy_timeout.count() > INT_MAX)
    throw ConfigError("sqlite_busy_timeout must be between 0 and " + std::to_string(INT_MAX) + " ms");
  if (options.statement_timeout.count() < 0) throw ConfigError("statement_timeout cannot be negative");
  // Not used by SQLite (opening a file does not wait on a network), but checked as for
  // PostgreSQL: the same options must be valid or invalid whatever the URL.
  if (options.connect_timeout.count() < 0) throw ConfigError("connect_timeout must not be negative");
}

std::unique_ptr<Connection> connect(const Url& url, const ConnectOptions& options) {
  sqlite::validate(url, options);
  const std::string filename = uri_filename(url);
  sqlite3* db = nullptr;
  // NOMUTEX: the pool hands a connection to one user at a time, so SQLite's own locking is waste.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(filename.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int code = db != nullptr ? sqlite3_extended_errcode(db) : rc;
    sqlite3_close_v2(db);
    throw_error(code, msg, {}, Phase::open, options.sqlite_busy_timeout, url.database());
  }
  return std::make_unique<SqliteConnection>(db, url, options);
}

}  // namespace corm::driver::sqlite
