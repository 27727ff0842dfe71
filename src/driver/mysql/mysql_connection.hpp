#pragma once
// The MySQL / MariaDB driver over MariaDB Connector/C: one MYSQL handle per
// corm::driver::Connection, server-side prepared statements (binary protocol) in a bounded
// per-connection cache. The same MysqlConnection serves both fronts: its operations (op_*) are
// coroutines over "steps" (mysql_step.hpp) that the sync front runs blocking and the async front
// (asyncio/mysql_async_connection) runs with Connector/C's non-blocking API on the io_context.
//
// URL options (`mysql://user:pw@host:3306/db?charset=utf8mb4`): charset (utf8mb4, the default),
// unix_socket=/path (the host is then ignored), ssl_mode=disabled|preferred|required|verify_ca|
// verify_identity, connect_timeout=<seconds>.

#include <mysql.h>

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "corm/driver/driver_connection.hpp"
#include "driver/mysql/mysql_error.hpp"

namespace corm::driver::mysql {

/// Opens a connection to the server `url` names and prepares its session (UTC time zone, strict
/// SQL mode without backslash escapes, the engine's isolation level and statement timeout).
/// Throws ConfigError for bad options and ConnectError when the server cannot be reached or
/// refuses the login.
std::unique_ptr<corm::driver::Connection> connect(const Url& url, const ConnectOptions& options);

/// Checks `url`'s query options and `options` without any network I/O; throws ConfigError
/// naming the accepted options.
void validate(const Url& url, const ConnectOptions& options);

/// Everything needed to open a connection again (a cancel opens a second one for KILL QUERY).
struct Target {
  std::string host, user, password, database, unix_socket, charset = "utf8mb4", ssl_mode;
  unsigned port = 3306;
  unsigned connect_timeout_s = 10;

  /// "the MySQL server at host:port" (or its socket), for messages.
  std::string describe() const;
};

/// The target `url` names (validated first by validate()).
Target target_for(const Url& url, const ConnectOptions& options);

/// A handle with `t`'s options set, not yet connected; `nonblocking` turns on MYSQL_OPT_NONBLOCK.
/// Throws ConnectError when it cannot be allocated.
MYSQL* init_handle(const Target& t, bool nonblocking);

/// mysql_real_connect's arguments for `t`, in one place for the blocking and non-blocking calls.
struct ConnectArgs {
  const char* host;
  const char* user;
  const char* password;
  const char* database;
  unsigned port;
  const char* unix_socket;
  unsigned long flags;
};
ConnectArgs connect_args(const Target& t);

/// Closes `db` after a failed connect and throws what its error means (ConnectError).
[[noreturn]] void fail_connect(MYSQL* db, const Target& t);

/// Opens a connected handle for `t`, blocking. Throws ConnectError.
MYSQL* open_handle(const Target& t);

/// Asks the server, from a second short-lived connection, to stop the statement session
/// `thread_id` runs (KILL QUERY); false when that could not be sent. Blocking, never throws.
bool kill_query(const Target& t, unsigned long thread_id) noexcept;

/// A bounded LRU of prepared statements keyed by SQL text. Closing a statement frees it on the
/// server, so the cache bounds server memory too (max_prepared_stmt_count is server-wide).
class StatementCache {
 public:
  explicit StatementCache(std::size_t capacity) : capacity_(capacity) {}
  ~StatementCache() { clear(); }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  MYSQL_STMT* find(std::string_view sql);
  /// False when the cache is off; the caller then closes the statement after use.
  bool insert(std::string_view sql, MYSQL_STMT* stmt);
  void clear() noexcept;

 private:
  using Entry = std::pair<std::string, MYSQL_STMT*>;
  std::size_t capacity_;
  std::list<Entry> order_;
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

/// One MySQL session. The op_* coroutines take an Io (SyncIo, or the async front's) that runs
/// each step that waits on the network; everything else about the protocol lives here, once.
class MysqlConnection final : public Connection {
 public:
  /// Takes a connected handle; the session is prepared by op_setup(), which the caller runs.
  MysqlConnection(MYSQL* db, Target target, const ConnectOptions& options);
  ~MysqlConnection() override;

  // --- operations, once for both fronts (definitions in mysql_operations.hpp) ---------------

  /// The session setup (time zone, SQL mode, isolation level, statement timeout).
  template <class Io>
  typename Io::template Task<bool> op_setup(Io io);
  /// One statement: as text without parameters, else prepared (cached) with bound values.
  template <class Io>
  typename Io::template Task<std::shared_ptr<const ResultSet>> op_execute(Io io, std::string_view sql,
                                                                         std::span<const Value> params);
  /// A multi-statement script (multi-statements are switched on for it alone).
  template <class Io>
  typename Io::template Task<bool> op_script(Io io, std::string_view sql);
  /// A read whose rows are fetched from the network as they are consumed (no stored result),
  /// handed to `on_slice` in slices of at most `rows_per_slice`.
  template <class Io>
  typename Io::template Task<bool> op_sliced(Io io, std::string_view sql, std::span<const Value> params,
                                             std::size_t rows_per_slice,
                                             const std::function<void(std::shared_ptr<const ResultSet>)>& on_slice);
  /// COM_PING; false (and broken) when the connection is dead.
  template <class Io>
  typename Io::template Task<bool> op_ping(Io io);
  /// COM_RESET_CONNECTION and the setup again, after a statement that changed the session.
  template <class Io>
  typename Io::template Task<bool> op_reset(Io io);

  // --- driver::Connection, blocking ---------------------------------------------------------

  Dialect dialect() const noexcept override { return Dialect::mysql; }
  std::shared_ptr<const ResultSet> execute(std::string_view sql, std::span<const Value> params) override;
  void execute_script(std::string_view sql) override;
  bool ping() noexcept override;
  bool is_broken() const noexcept override { return db_ == nullptr || broken_; }
  bool in_transaction() const noexcept override;
  int backend_pid() const noexcept override { return static_cast<int>(thread_id_); }
  /// Called by the pool at check-in. COM_RESET_CONNECTION drops user variables, session
  /// settings, temporary tables, named locks and prepared statements; the session setup then
  /// runs again. Only after a statement that could have changed the session.
  bool reset_session() noexcept override;
  void close() noexcept override;
  /// MySQL has no out-of-band cancel: a second connection asks the server to stop this
  /// session's running statement (KILL QUERY), which then fails with error 1317. Blocking.
  bool cancel() noexcept override;

  /// True when a statement since the last reset may have changed the session.
  bool session_touched() const noexcept { return session_touched_; }
  /// The server's id for this session (KILL QUERY's argument).
  unsigned long thread_id() const noexcept { return thread_id_; }
  const Target& target() const noexcept { return target_; }
  MYSQL* handle() const noexcept { return db_; }
  /// The connection can no longer be trusted (a cancel could not clean it): the pool discards it.
  void mark_broken() noexcept { broken_ = true; }

 private:
  template <class Io>
  typename Io::template Task<bool> run_text(Io io, std::string_view sql);
  template <class Io>
  typename Io::template Task<std::shared_ptr<const ResultSet>> execute_text(Io io, std::string_view sql);
  template <class Io>
  typename Io::template Task<MYSQL_STMT*> prepare(Io io, std::string_view sql, bool& owned);
  /// Makes a statement that failed reusable (unless the connection is gone).
  template <class Io>
  typename Io::template Task<bool> settle_stmt(Io io, MYSQL_STMT* stmt, bool owned);

  /// The exception for the handle's error (and broken_ when the connection is lost).
  std::exception_ptr handle_error(std::string_view sql, Phase phase);
  /// The exception for a statement's error, read before any clean-up touches the handle.
  std::exception_ptr stmt_error(MYSQL_STMT* stmt, std::string_view sql);
  Phase phase_of(std::string_view sql) const;
  void require_open() const;
  void note_session_change(std::string_view sql) noexcept;
  void check_param_count(MYSQL_STMT* stmt, std::string_view sql, std::size_t given) const;

  MYSQL* db_;
  Target target_;
  ConnectOptions options_;
  StatementCache cache_;
  bool session_touched_ = false;
  unsigned long thread_id_ = 0;
  bool mariadb_ = false;
  bool broken_ = false;
};

}  // namespace corm::driver::mysql
