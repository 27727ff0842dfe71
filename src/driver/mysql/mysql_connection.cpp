#include "driver/mysql/mysql_connection.hpp"

#include <mysql.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "core/temporal.hpp"
#include "corm/core/error.hpp"
#include "driver/mysql/mysql_error.hpp"
#include "driver/mysql/mysql_hosts.hpp"
#include "driver/mysql/mysql_params.hpp"
#include "driver/mysql/mysql_result.hpp"

namespace corm::driver::mysql {

namespace {

constexpr std::string_view accepted_options =
    "charset=utf8mb4, unix_socket=/path, ssl_mode=disabled|preferred|required|verify_ca|verify_identity, "
    "connect_timeout=<seconds>, target_session_attrs=read-write|any";

// Everything needed to open a connection again: cancel() opens a second one to send KILL QUERY.
struct Target {
  std::string host, user, password, database, unix_socket, charset = "utf8mb4", ssl_mode;
  unsigned port = 3306;
  unsigned connect_timeout_s = 10;
  bool read_write = false;  // target_session_attrs=read-write

  std::string describe() const {
    if (!unix_socket.empty()) return "the MySQL server at socket " + unix_socket;
    return "the MySQL server at " + host + ":" + std::to_string(port);
  }
};

Target target_for(const Url& url, const ConnectOptions& options) {
  Target t;
  t.host = url.host().empty() ? "localhost" : url.host();
  t.port = url.port() ? static_cast<unsigned>(*url.port()) : 3306u;
  t.user = url.username();
  t.password = url.password();
  t.database = url.database();
  if (options.connect_timeout.count() > 0)
    t.connect_timeout_s = static_cast<unsigned>(std::max<long long>(1, (options.connect_timeout.count() + 999) / 1000));
  for (const auto& [key, value] : url.query()) {
    if (key == "charset") t.charset = value;
    else if (key == "unix_socket") t.unix_socket = value;
    else if (key == "ssl_mode") t.ssl_mode = value;
    else if (key == "connect_timeout") t.connect_timeout_s = static_cast<unsigned>(std::stoul(value));
  }
  t.read_write = wants_read_write(url);
  return t;
}

// Opens a MYSQL handle for `t`; on failure throws what classify() says (ConnectError).
MYSQL* open_handle(const Target& t) {
  MYSQL* db = mysql_init(nullptr);
  if (db == nullptr) throw ConnectError("could not allocate a MySQL connection handle (out of memory)");
  mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &t.connect_timeout_s);
  mysql_options(db, MYSQL_SET_CHARSET_NAME, t.charset.c_str());
  // No silent reconnects: a reconnected session would lose its transaction without anyone knowing.
  my_bool no = 0;
  mysql_options(db, MYSQL_OPT_RECONNECT, &no);
  if (t.ssl_mode == "required" || t.ssl_mode == "verify_ca" || t.ssl_mode == "verify_identity") {
    my_bool yes = 1;
    mysql_options(db, MYSQL_OPT_SSL_ENFORCE, &yes);
    if (t.ssl_mode != "required") mysql_options(db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
  }
  // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, not only those it changed, as on
  // PostgreSQL — the ORM's stale-row check counts on it (SQLAlchemy sets it too).
  const unsigned long flags = CLIENT_FOUND_ROWS;
  if (mysql_real_connect(db, t.unix_socket.empty() ? t.host.c_str() : nullptr, t.user.c_str(),
                         t.password.empty() ? nullptr : t.password.c_str(),
                         t.database.empty() ? nullptr : t.database.c_str(), t.unix_socket.empty() ? t.port : 0,
                         t.unix_socket.empty() ? nullptr : t.unix_socket.c_str(), flags) == nullptr) {
    const unsigned code = mysql_errno(db);
    const std::string state = mysql_sqlstate(db);
    std::string message = mysql_error(db);
    mysql_close(db);
    auto error = classify(code, state, message + " — " + t.describe(), {}, Phase::connect);
    std::rethrow_exception(error);
  }
  return db;
}

// Opens a connection to the first host of `url` that answers (and, with read-write, accepts
// writes), leaving that host in `t` (cancel() reconnects there). A single host without
// read-write fails with that host's own error, as before host lists existed.
MYSQL* open_first_usable(Target& t, const Url& url) {
  const auto candidates = host_candidates(url);
  if (!t.unix_socket.empty() || (candidates.size() == 1 && !t.read_write)) return open_handle(t);
  HostAttempts attempts;
  for (const auto& c : candidates) {
    t.host = c.host;
    t.port = c.port;
    MYSQL* db = nullptr;
    try {
      db = open_handle(t);
    } catch (const ConnectError& e) {
      attempts.failed(c, e.what());
      continue;
    }
    if (!t.read_write) return db;
    bool read_only = false;
    std::string why;
    if (mysql_real_query(db, read_only_probe.data(), read_only_probe.size()) != 0) {
      why = "could not ask whether it is read-only (" + std::string(mysql_error(db)) + ")";
    } else if (MYSQL_RES* res = mysql_store_result(db)) {
      MYSQL_ROW row = mysql_fetch_row(res);
      read_only = row != nullptr && probe_says_read_only(row[0], row[1]);
      if (row == nullptr) why = "could not ask whether it is read-only (no row)";
      mysql_free_result(res);
    } else {
      why = "could not ask whether it is read-only (" + std::string(mysql_error(db)) + ")";
    }
    if (read_only) why = "read-only (@@read_only or @@innodb_read_only is ON), not a primary";
    if (why.empty()) return db;
    mysql_close(db);
    attempts.failed(c, std::move(why));
  }
  attempts.throw_error(url, t.read_write);
}

// A write refused because the server runs read-only (1290 ER_OPTION_PREVENTS_STATEMENT naming
// --read-only, 1836 ER_READ_ONLY_MODE), as opposed to the caller's READ ONLY transaction (1792).
bool server_refuses_writes(unsigned code, std::string_view message) {
  return code == 1836 || (code == 1290 && (message.find("read-only") != std::string_view::npos ||
                                           message.find("read_only") != std::string_view::npos));
}

ErrorDetail statement_detail(std::string_view sql) {
  ErrorDetail d;
  d.statement = std::string(sql);
  return d;
}

bool starts_with_word(std::string_view sql, std::string_view word) {
  std::size_t i = 0;
  while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t' || sql[i] == '\r' || sql[i] == '('))
    ++i;
  if (sql.size() - i < word.size()) return false;
  for (std::size_t k = 0; k < word.size(); ++k)
    if (std::toupper(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
  return true;
}

// Whether `sql` may leave something behind in the session for the connection's next user: a
// SET (other than SET TRANSACTION, which lasts one transaction), a user variable, a named lock,
// a temporary table, a USE.
bool changes_session(std::string_view sql) {
  if (starts_with_word(sql, "SET")) return !starts_with_word(sql, "SET TRANSACTION");
  if (starts_with_word(sql, "USE")) return true;
  std::string lower(sql);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find('@') != std::string::npos || lower.find("get_lock") != std::string::npos ||
         lower.find("temporary") != std::string::npos;
}

// A bounded LRU of prepared statements keyed by SQL text. Closing a statement frees it on the
// server, so the cache bounds server memory too (max_prepared_stmt_count is server-wide).
class StatementCache {
 public:
  explicit StatementCache(std::size_t capacity) : capacity_(capacity) {}
  ~StatementCache() { clear(); }

  std::size_t capacity() const noexcept { return capacity_; }

  MYSQL_STMT* find(std::string_view sql) {
    auto it = index_.find(std::string(sql));
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }
  /// False when the cache is off; the caller then closes the statement after use.
  bool insert(std::string_view sql, MYSQL_STMT* stmt) {
    if (capacity_ == 0) return false;
    if (index_.size() >= capacity_) {
      auto& last = order_.back();
      mysql_stmt_close(last.second);
      index_.erase(last.first);
      order_.pop_back();
    }
    order_.emplace_front(std::string(sql), stmt);
    index_.emplace(order_.front().first, order_.begin());
    return true;
  }
  void erase(std::string_view sql) {
    auto it = index_.find(std::string(sql));
    if (it == index_.end()) return;
    mysql_stmt_close(it->second->second);
    order_.erase(it->second);
    index_.erase(it);
  }
  void clear() noexcept {
    for (auto& [sql, stmt] : order_) mysql_stmt_close(stmt);
    order_.clear();
    index_.clear();
  }
  /// Forgets every statement without telling the server (the connection is gone).
  void abandon() noexcept { clear(); }

 private:
  using Entry = std::pair<std::string, MYSQL_STMT*>;
  std::size_t capacity_;
  std::list<Entry> order_;
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

class MysqlConnection final : public Connection {
 public:
  MysqlConnection(MYSQL* db, Target target, const ConnectOptions& options)
      : db_(db), target_(std::move(target)), options_(options), cache_(options.statement_cache_size) {
    thread_id_ = mysql_thread_id(db_);
    const std::string info = mysql_get_server_info(db_);
    mariadb_ = info.find("MariaDB") != std::string::npos;
    setup(options);
  }
  ~MysqlConnection() override { close(); }

  Dialect dialect() const noexcept override { return Dialect::mysql; }
  std::shared_ptr<const ResultSet> execute(std::string_view sql, std::span<const Value> params) override;
  void execute_script(std::string_view sql) override;
  bool ping() noexcept override {
    if (db_ == nullptr || broken_) return false;
    if (target_.read_write) {
      // Asked for a primary: the ping is the read-only probe, so pool_pre_ping also drops a
      // connection to a server demoted since (same single round trip as COM_PING).
      bool writable = false;
      if (mysql_real_query(db_, read_only_probe.data(), read_only_probe.size()) == 0) {
        if (MYSQL_RES* res = mysql_store_result(db_)) {
          MYSQL_ROW row = mysql_fetch_row(res);
          writable = row != nullptr && !probe_says_read_only(row[0], row[1]);
          mysql_free_result(res);
        }
      }
      if (!writable) broken_ = true;
      return writable;
    }
    if (mysql_ping(db_) == 0) return true;
    broken_ = true;
    return false;
  }
  bool is_broken() const noexcept override { return db_ == nullptr || broken_; }
  bool in_transaction() const noexcept override {
    if (db_ == nullptr) return false;
    unsigned int status = 0;
    if (mariadb_get_infov(db_, MARIADB_CONNECTION_SERVER_STATUS, &status) != 0) return false;
    return (status & SERVER_STATUS_IN_TRANS) != 0;
  }
  int backend_pid() const noexcept override { return static_cast<int>(thread_id_); }
  // Called by the pool at check-in (Connection::reset_session). COM_RESET_CONNECTION drops user
  // variables, session settings, temporary tables, named locks and prepared statements; the
  // session setup then runs again. Only after a statement that could have changed the session.
  bool reset_session() noexcept override {
    if (!session_touched_) return true;
    if (db_ == nullptr || broken_) return false;
    if (mysql_reset_connection(db_) != 0) return false;
    cache_.abandon();
    try {
      setup(options_);
    } catch (...) {
      return false;
    }
    session_touched_ = false;
    return true;
  }
  void close() noexcept override {
    if (db_ == nullptr) return;
    if (broken_) cache_.abandon();
    else cache_.clear();
    mysql_close(db_);
    db_ = nullptr;
  }
  // MySQL has no out-of-band cancel: a second connection asks the server to stop this
  // session's running statement (KILL QUERY), which then fails with error 1317.
  bool cancel() noexcept override {
    try {
      MYSQL* other = open_handle(target_);
      const std::string kill = "KILL QUERY " + std::to_string(thread_id_);
      const bool ok = mysql_real_query(other, kill.data(), kill.size()) == 0;
      mysql_close(other);
      return ok;
    } catch (...) {
      return false;
    }
  }

 private:
  void setup(const ConnectOptions& options);
  void run_text(std::string_view sql);
  [[noreturn]] void fail_handle(std::string_view sql, Phase phase);
  // The server turned read-only under a read-write connection (a demoted primary): the
  // connection is of no more use for writing, so it is marked broken and the pool drops it.
  [[noreturn]] void fail_read_only(unsigned code, std::string message, std::string_view sql) {
    broken_ = true;
    ErrorDetail d;
    d.result_code = static_cast<int>(code);
    d.server_message = std::move(message);
    d.statement = std::string(sql);
    throw ReadOnlyServer("the MySQL server at " + target_.host + ":" + std::to_string(target_.port) +
                             " is read-only now (no longer the primary); the connection is discarded and the "
                             "transaction did not commit — run it again (RetryPolicy::on_failover)",
                         d);
  }
  [[noreturn]] void fail_stmt(MYSQL_STMT* stmt, std::string_view sql, bool owned);
  MYSQL_STMT* prepare(std::string_view sql, bool& owned);
  std::shared_ptr<const ResultSet> execute_text(std::string_view sql);
  Phase phase_of(std::string_view sql) const { return starts_with_word(sql, "COMMIT") ? Phase::commit : Phase::statement; }

  void require_open() const {
    if (db_ == nullptr) throw UsageError("this MySQL connection is closed; get a new one from the engine");
    if (broken_)
      throw ConnectionLost("this MySQL connection was lost earlier; the pool discards it — get a new one");
  }

  void note_session_change(std::string_view sql) {
    if (!session_touched_) session_touched_ = changes_session(sql);
  }

  MYSQL* db_;
  Target target_;
  ConnectOptions options_;
  StatementCache cache_;
  bool session_touched_ = false;
  unsigned long thread_id_ = 0;
  bool mariadb_ = false;
  bool broken_ = false;
};

void MysqlConnection::setup(const ConnectOptions& options) {
  // UTC like every corm timestamp; strict mode so bad data fails instead of being clipped; no
  // backslash escapes so string literals mean what they say in standard SQL (LIKE ... ESCAPE '\').
  run_text("SET SESSION time_zone = '+00:00', "
           "sql_mode = CONCAT_WS(',', @@sql_mode, 'STRICT_ALL_TABLES', 'NO_BACKSLASH_ESCAPES', "
           "'ERROR_FOR_DIVISION_BY_ZERO', 'NO_ZERO_DATE', 'NO_ZERO_IN_DATE', 'NO_ENGINE_SUBSTITUTION')");
  if (options.isolation_level && *options.isolation_level != IsolationLevel::autocommit)
    run_text(fmt::format("SET SESSION TRANSACTION ISOLATION LEVEL {}", to_sql(*options.isolation_level)));
  if (options.statement_timeout.count() > 0) {
    if (mariadb_)
      run_text(fmt::format("SET SESSION max_statement_time = {:.3f}", options.statement_timeout.count() / 1000.0));
    else
      run_text(fmt::format("SET SESSION max_execution_time = {}", options.statement_timeout.count()));
  }
}

void MysqlConnection::run_text(std::string_view sql) {
  if (mysql_real_query(db_, sql.data(), sql.size()) != 0) fail_handle(sql, Phase::statement);
  if (MYSQL_RES* res = mysql_store_result(db_)) mysql_free_result(res);
}

void MysqlConnection::fail_handle(std::string_view sql, Phase phase) {
  const unsigned code = mysql_errno(db_);
  if (is_connection_lost(code)) broken_ = true;
  if (target_.read_write && server_refuses_writes(code, mysql_error(db_))) fail_read_only(code, mysql_error(db_), sql);
  std::rethrow_exception(classify(code, mysql_sqlstate(db_), mysql_error(db_), sql, phase));
}

void MysqlConnection::fail_stmt(MYSQL_STMT* stmt, std::string_view sql, bool owned) {
  const unsigned code = mysql_stmt_errno(stmt);
  const std::string state = mysql_stmt_sqlstate(stmt);
  const std::string message = mysql_stmt_error(stmt);
  if (target_.read_write && server_refuses_writes(code, message)) {
    if (owned) mysql_stmt_close(stmt);
    fail_read_only(code, message, sql);
  }
  if (is_connection_lost(code)) {
    broken_ = true;
  } else if (!owned) {
    mysql_stmt_free_result(stmt);
    mysql_stmt_reset(stmt);
  }
  if (owned) mysql_stmt_close(stmt);
  std::rethrow_exception(classify(code, state, message, sql, phase_of(sql)));
}

MYSQL_STMT* MysqlConnection::prepare(std::string_view sql, bool& owned) {
  owned = false;
  if (MYSQL_STMT* cached = cache_.find(sql)) return cached;
  MYSQL_STMT* stmt = mysql_stmt_init(db_);
  if (stmt == nullptr) fail_handle(sql, Phase::statement);
  // Lets store_result compute each column's longest value, so result buffers are sized once.
  my_bool update_max = 1;
  mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
  if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) fail_stmt(stmt, sql, true);
  owned = !cache_.insert(sql, stmt);
  return stmt;
}

std::shared_ptr<const ResultSet> MysqlConnection::execute(std::string_view sql, std::span<const Value> params) {
  require_open();
  note_session_change(sql);
  // A statement without parameters (BEGIN, SAVEPOINT, DDL, a constant SELECT) goes as text: one
  // round trip, no prepared statement to keep, and every statement kind is accepted.
  if (params.empty()) return execute_text(sql);
  ParamBinds::check_count(params.size());
  bool owned = false;
  MYSQL_STMT* stmt = prepare(sql, owned);
  struct Closer {
    MYSQL_STMT* stmt;
    bool owned;
    ~Closer() {
      if (owned) mysql_stmt_close(stmt);
    }
  } closer{stmt, owned};
  const unsigned long expected = mysql_stmt_param_count(stmt);
  if (params.size() != expected)
    throw UsageError("the statement has " + std::to_string(expected) + " parameter placeholder(s) but " +
                         std::to_string(params.size()) +
                         " value(s) were given (MySQL's '?' is positional: a value used twice is bound twice)",
                     statement_detail(sql));
  ParamBinds binds(params);
  if (mysql_stmt_bind_param(stmt, binds.data()) != 0) {
    closer.owned = false;
    fail_stmt(stmt, sql, owned);
  }
  if (mysql_stmt_execute(stmt) != 0) {
    closer.owned = false;
    fail_stmt(stmt, sql, owned);
  }
  std::shared_ptr<const ResultSet> out;
  try {
    out = read_statement_result(stmt);
  } catch (const StatementFailed&) {
    closer.owned = false;
    fail_stmt(stmt, sql, owned);
  }
  mysql_stmt_free_result(stmt);
  return out;
}

std::shared_ptr<const ResultSet> MysqlConnection::execute_text(std::string_view sql) {
  if (mysql_real_query(db_, sql.data(), sql.size()) != 0) fail_handle(sql, phase_of(sql));
  std::shared_ptr<const ResultSet> out;
  MYSQL_RES* res = mysql_store_result(db_);
  if (res != nullptr) {
    out = read_text_result(res);
    mysql_free_result(res);
  } else if (mysql_field_count(db_) != 0) {
    fail_handle(sql, phase_of(sql));
  } else {
    auto empty = std::make_shared<BufferedResultSet>();
    const my_ulonglong n = mysql_affected_rows(db_);
    empty->set_affected_rows(n == static_cast<my_ulonglong>(-1) ? -1 : static_cast<std::int64_t>(n));
    out = std::move(empty);
  }
  // A CALL returns a status result after its rows; read it so the connection is ready again.
  while (mysql_more_results(db_)) {
    if (mysql_next_result(db_) > 0) fail_handle(sql, phase_of(sql));
    if (MYSQL_RES* more = mysql_store_result(db_)) mysql_free_result(more);
  }
  return out;
}

void MysqlConnection::execute_script(std::string_view sql) {
  require_open();
  note_session_change(sql);
  // Multi-statement text is allowed only for scripts, so a single execute() can never run a
  // second statement smuggled into its text.
  if (mysql_set_server_option(db_, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0) fail_handle(sql, Phase::statement);
  struct Off {
    MYSQL* db;
    ~Off() { mysql_set_server_option(db, MYSQL_OPTION_MULTI_STATEMENTS_OFF); }
  } off{db_};
  // COMMIT travels here: a connection lost once it is sent leaves its outcome unknown.
  if (mysql_real_query(db_, sql.data(), sql.size()) != 0) fail_handle(sql, phase_of(sql));
  for (;;) {
    if (MYSQL_RES* res = mysql_store_result(db_)) mysql_free_result(res);
    else if (mysql_field_count(db_) != 0) fail_handle(sql, phase_of(sql));
    const int next = mysql_next_result(db_);
    if (next < 0) break;
    if (next > 0) fail_handle(sql, phase_of(sql));
  }
}

}  // namespace

std::unique_ptr<corm::driver::Connection> connect(const Url& url, const ConnectOptions& options) {
  mysql::validate(url, options);
  Target target = target_for(url, options);
  MYSQL* db = open_first_usable(target, url);
  return std::make_unique<MysqlConnection>(db, std::move(target), options);
}

void validate(const Url& url, const ConnectOptions&) {
  if (url.dialect() != Dialect::mysql)
    throw ConfigError("the MySQL driver got a " + std::string(dialect_name(url.dialect())) + " URL");
  if (url.hosts().size() > 1 && url.query().count("unix_socket"))
    throw ConfigError("unix_socket= in MySQL URL " + url.str() +
                      " leaves no use for its host list; give either a host list or one socket");
  for (const auto& [key, value] : url.query()) {
    if (key == "charset") {
      if (value != "utf8mb4" && value != "utf8mb3" && value != "utf8" && value != "latin1" && value != "binary")
        throw ConfigError("unsupported charset '" + value.substr(0, 40) + "' in MySQL URL; use charset=utf8mb4 " +
                          "(the default), which holds every Unicode character");
      if (value != "utf8mb4")
        throw ConfigError("charset=" + value + " cannot hold every string corm binds (emoji need 4 bytes); " +
                          "use charset=utf8mb4 (the default)");
    } else if (key == "unix_socket") {
      if (value.empty()) throw ConfigError("unix_socket= in MySQL URL is empty; give the socket's path");
    } else if (key == "ssl_mode") {
      if (value != "disabled" && value != "preferred" && value != "required" && value != "verify_ca" &&
          value != "verify_identity")
        throw ConfigError("unknown ssl_mode '" + value.substr(0, 40) +
                          "' in MySQL URL; use disabled, preferred, required, verify_ca or verify_identity");
    } else if (key == "target_session_attrs") {
      if (value != "read-write" && value != "any")
        throw ConfigError("target_session_attrs='" + value.substr(0, 40) +
                          "' in MySQL URL is not supported; use read-write (skip read-only servers of the host "
                          "list) or any (the first that answers, the default)");
    } else if (key == "connect_timeout") {
      unsigned v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || p != value.data() + value.size() || v == 0)
        throw ConfigError("connect_timeout in MySQL URL must be a whole number of seconds above 0");
    } else {
      throw ConfigError("unknown option '" + key.substr(0, 40) + "' in MySQL URL; accepted: " +
                        std::string(accepted_options));
    }
  }
}

}  // namespace corm::driver::mysql
