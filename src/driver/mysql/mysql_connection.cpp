#include "driver/mysql/mysql_connection.hpp"

#include <mysql.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "corm/core/error.hpp"
#include "driver/mysql/mysql_error.hpp"
#include "driver/mysql/mysql_operations.hpp"
#include "driver/session_state.hpp"

namespace corm::driver::mysql {

namespace {

constexpr std::string_view accepted_options =
    "charset=utf8mb4, unix_socket=/path, ssl_mode=disabled|preferred|required|verify_ca|verify_identity, "
    "connect_timeout=<seconds>";

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

}  // namespace

std::string Target::describe() const {
  if (!unix_socket.empty()) return "the MySQL server at socket " + unix_socket;
  return "the MySQL server at " + host + ":" + std::to_string(port);
}

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
  return t;
}

MYSQL* init_handle(const Target& t, bool nonblocking) {
  MYSQL* db = mysql_init(nullptr);
  if (db == nullptr) throw ConnectError("could not allocate a MySQL connection handle (out of memory)");
  if (nonblocking && mysql_options(db, MYSQL_OPT_NONBLOCK, nullptr) != 0) {
    mysql_close(db);
    throw ConnectError("could not switch a MySQL connection handle to non-blocking mode (out of memory)");
  }
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
  return db;
}

ConnectArgs connect_args(const Target& t) {
  // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, not only those it changed, as on
  // PostgreSQL — the ORM's stale-row check counts on it (SQLAlchemy sets it too).
  return ConnectArgs{t.unix_socket.empty() ? t.host.c_str() : nullptr,
                     t.user.c_str(),
                     t.password.empty() ? nullptr : t.password.c_str(),
                     t.database.empty() ? nullptr : t.database.c_str(),
                     t.unix_socket.empty() ? t.port : 0,
                     t.unix_socket.empty() ? nullptr : t.unix_socket.c_str(),
                     CLIENT_FOUND_ROWS};
}

void fail_connect(MYSQL* db, const Target& t) {
  const unsigned code = mysql_errno(db);
  const std::string state = mysql_sqlstate(db);
  std::string message = mysql_error(db);
  mysql_close(db);
  std::rethrow_exception(classify(code, state, message + " — " + t.describe(), {}, Phase::connect));
}

MYSQL* open_handle(const Target& t) {
  MYSQL* db = init_handle(t, false);
  const ConnectArgs a = connect_args(t);
  if (mysql_real_connect(db, a.host, a.user, a.password, a.database, a.port, a.unix_socket, a.flags) == nullptr)
    fail_connect(db, t);
  return db;
}

bool kill_query(const Target& t, unsigned long thread_id) noexcept {
  try {
    MYSQL* other = open_handle(t);
    const std::string kill = "KILL QUERY " + std::to_string(thread_id);
    const bool ok = mysql_real_query(other, kill.data(), kill.size()) == 0;
    mysql_close(other);
    return ok;
  } catch (...) {
    return false;
  }
}

// --- StatementCache ------------------------------------------------------------------------

MYSQL_STMT* StatementCache::find(std::string_view sql) {
  auto it = index_.find(std::string(sql));
  if (it == index_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

bool StatementCache::insert(std::string_view sql, MYSQL_STMT* stmt) {
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

void StatementCache::clear() noexcept {
  for (auto& [sql, stmt] : order_) mysql_stmt_close(stmt);
  order_.clear();
  index_.clear();
}

// --- MysqlConnection -----------------------------------------------------------------------

MysqlConnection::MysqlConnection(MYSQL* db, Target target, const ConnectOptions& options)
    : db_(db), target_(std::move(target)), options_(options), cache_(options.statement_cache_size) {
  thread_id_ = mysql_thread_id(db_);
  const std::string info = mysql_get_server_info(db_);
  mariadb_ = info.find("MariaDB") != std::string::npos;
}

MysqlConnection::~MysqlConnection() { close(); }

std::shared_ptr<const ResultSet> MysqlConnection::execute(std::string_view sql, std::span<const Value> params) {
  return op_execute(SyncIo{}, sql, params).get();
}

void MysqlConnection::execute_script(std::string_view sql) { (void)op_script(SyncIo{}, sql).get(); }

bool MysqlConnection::ping() noexcept {
  try {
    return op_ping(SyncIo{}).get();
  } catch (...) {
    return false;
  }
}

bool MysqlConnection::reset_session() noexcept {
  try {
    return op_reset(SyncIo{}).get();
  } catch (...) {
    return false;
  }
}

bool MysqlConnection::in_transaction() const noexcept {
  if (db_ == nullptr) return false;
  unsigned int status = 0;
  if (mariadb_get_infov(db_, MARIADB_CONNECTION_SERVER_STATUS, &status) != 0) return false;
  return (status & SERVER_STATUS_IN_TRANS) != 0;
}

void MysqlConnection::close() noexcept {
  if (db_ == nullptr) return;
  cache_.clear();
  mysql_close(db_);
  db_ = nullptr;
}

bool MysqlConnection::cancel() noexcept { return kill_query(target_, thread_id_); }

std::exception_ptr MysqlConnection::handle_error(std::string_view sql, Phase phase) {
  const unsigned code = mysql_errno(db_);
  if (is_connection_lost(code)) broken_ = true;
  return classify(code, mysql_sqlstate(db_), mysql_error(db_), sql, phase);
}

std::exception_ptr MysqlConnection::stmt_error(MYSQL_STMT* stmt, std::string_view sql) {
  const unsigned code = mysql_stmt_errno(stmt);
  if (is_connection_lost(code)) broken_ = true;
  return classify(code, mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt), sql, phase_of(sql));
}

Phase MysqlConnection::phase_of(std::string_view sql) const {
  return starts_with_word(sql, "COMMIT") ? Phase::commit : Phase::statement;
}

void MysqlConnection::require_open() const {
  if (db_ == nullptr) throw UsageError("this MySQL connection is closed; get a new one from the engine");
  if (broken_) throw ConnectionLost("this MySQL connection was lost earlier; the pool discards it — get a new one");
}

void MysqlConnection::note_session_change(std::string_view sql) noexcept {
  if (!session_touched_) session_touched_ = session_state::mysql_changes_session(sql);
}

void MysqlConnection::check_param_count(MYSQL_STMT* stmt, std::string_view sql, std::size_t given) const {
  const unsigned long expected = mysql_stmt_param_count(stmt);
  if (given != expected)
    throw UsageError("the statement has " + std::to_string(expected) + " parameter placeholder(s) but " +
                         std::to_string(given) +
                         " value(s) were given (MySQL's '?' is positional: a value used twice is bound twice)",
                     statement_detail(sql));
}

std::unique_ptr<corm::driver::Connection> connect(const Url& url, const ConnectOptions& options) {
  mysql::validate(url, options);
  Target target = target_for(url, options);
  MYSQL* db = open_handle(target);
  auto conn = std::make_unique<MysqlConnection>(db, std::move(target), options);
  (void)conn->op_setup(SyncIo{}).get();
  return conn;
}

void validate(const Url& url, const ConnectOptions&) {
  if (url.dialect() != Dialect::mysql)
    throw ConfigError("the MySQL driver got a " + std::string(dialect_name(url.dialect())) + " URL");
  // Host lists are PostgreSQL-only so far (libpq walks them itself); taking the first host of a
  // list silently would connect to a server the caller did not mean on failover.
  if (url.hosts().size() > 1)
    throw ConfigError("a MySQL/MariaDB URL names one host; host lists (h1:p1,h2:p2) and failover between hosts "
                      "are supported on PostgreSQL only — list a single host (or a proxy in front of the "
                      "replica set)");
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
