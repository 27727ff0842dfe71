#pragma once
// The PostgreSQL driver connection. Every operation is a small state machine over libpq's
// non-blocking API that never waits by itself: it says what it is waiting for (socket readable
// or writable) and is advanced by poll(). The sync front waits with ::poll(2) (wait_blocking);
// the async front waits on the same socket with Asio. One implementation, two ways to wait.

#include <libpq-fe.h>

#include <chrono>
#include <deque>
#include <cstdint>
#include <exception>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "corm/core/error.hpp"
#include "corm/driver/driver_connection.hpp"
#include "driver/postgres/pg_params.hpp"

namespace corm::driver::postgres {

/// What an operation waits for before it can make progress.
enum class Wait { none, read, write };

/// Checks URL options against libpq's known keywords (no I/O). Throws ConfigError.
void validate(const Url& url, const ConnectOptions& options);

class PgConnection final : public driver::Connection {
 public:
  /// Starts a non-blocking connect (PQconnectStartParams). Throws ConnectError when libpq
  /// refuses at once (out of memory, unusable parameters).
  static std::unique_ptr<PgConnection> start_connect(const Url& url, const ConnectOptions& options);
  /// Blocking connect: start_connect plus waiting, bounded by options.connect_timeout.
  static std::unique_ptr<PgConnection> connect_blocking(const Url& url, const ConnectOptions& options);

  ~PgConnection() override;

  /// Advances the connect; Wait::none when the connection is ready. Throws ConnectError.
  Wait connect_poll();

  /// Starts a statement (prepared through the cache when enabled). Completes via poll().
  /// Commands queued by defer(), DEALLOCATEs of evicted statements, the PREPARE and the
  /// statement itself go out together in one pipeline: one round trip.
  /// `read_ahead`: a plain read that leaves the deferred commands queued when the connection's
  /// default isolation is READ COMMITTED (see driver::Connection::execute_read).
  void start_execute(std::string_view sql, std::span<const Value> params, bool read_ahead = false);
  /// Starts one statement for many parameter rows, sent in pipeline mode (chunks of
  /// `batch_chunk` rows per round trip). Complete with poll(), then take_batch(). The rows must
  /// outlive the operation. Inside a transaction a failing row makes the whole batch fail.
  void start_batch(std::string_view sql, std::span<const std::vector<Value>> rows);
  /// The per-row results of a finished batch, or its first error.
  std::vector<std::shared_ptr<const ResultSet>> take_batch();
  /// Rows sent per pipeline round trip.
  static constexpr std::size_t batch_chunk = 1000;

  /// Starts a read fetched `rows_per_fetch` rows (at most max_fetch_rows) at a time through a
  /// server-side cursor (DECLARE ... NO SCROLL CURSOR, then FETCHes), two FETCHes in flight so
  /// the server produces the next slice while the caller reads this one. Outside a transaction it runs in one of its
  /// own (BEGIN and COMMIT travel in the same pipelines). poll() returns Wait::none whenever a
  /// slice is ready (take_slices()) and when the read is over (cursor_done(), then take_batch()
  /// for the last slices or the error). Costs two round trips more than start_execute: the
  /// cursor's columns decide the FETCHes' result format before they are sent, and the CLOSE
  /// (with the own transaction's COMMIT) is waited for.
  void start_cursor(std::string_view sql, std::span<const Value> params, std::size_t rows_per_fetch);
  /// The slices that arrived since the last call, in order.
  std::vector<std::shared_ptr<const ResultSet>> take_slices();
  /// True once the cursor read has ended (closed, or failed).
  bool cursor_done() const noexcept { return !op_ || op_->done; }
  /// Rows per FETCH at most, whatever yield_per asks: 100,000 rows read through FETCHes of
  /// 3,000–5,000 rows took twice as long as through FETCHes of 500–2,000, with corm and with
  /// plain libpq alike; a slice is "at most yield_per rows", so smaller is allowed.
  static constexpr std::size_t max_fetch_rows = 1000;

  /// Starts a parameterless script (simple query protocol; may hold several statements).
  /// Deferred commands are prepended unless `with_deferred` is false (a ping must not begin
  /// a transaction).
  void start_script(std::string_view sql, bool with_deferred = true);
  /// Advances the current operation; Wait::none when its result is ready for take_result().
  Wait poll();
  /// True when the current statement (not a script) is fully sent and libpq cannot go on
  /// without more input: the caller may wait for the socket to be readable before poll(),
  /// instead of a read that would only find nothing yet.
  bool awaits_input();
  /// True while the current operation is one statement (not a batch or a script): once part of
  /// its reply has arrived, the rest is already streaming and a read rarely comes back empty.
  /// A batch's later replies wait on the server executing later rows.
  bool streams_reply() const noexcept { return op_ && op_->kind == Kind::statement; }
  /// The finished operation's result, or its classified exception.
  std::shared_ptr<const ResultSet> take_result();
  /// True while an operation is in flight (started and not yet taken).
  bool busy() const noexcept { return op_.has_value(); }

  /// Blocks until the socket is ready for `w` or `deadline` passes (false on timeout).
  bool wait_blocking(Wait w, std::optional<std::chrono::steady_clock::time_point> deadline);

  /// Asks the server to cancel the running statement (PQcancel: a blocking exchange on a
  /// separate socket). Safe from any thread. Returns false when the request could not be sent.
  /// libpq 15 waits without a limit for the server to close the cancel socket (forever on a
  /// black-holed network): callers that must not hang run it elsewhere with cancel_handle().
  bool request_cancel() noexcept;
  /// The cancel key of this connection, owned separately (freed with PQfreeCancel by its last
  /// owner): a cancel request blocked on a dead network may outlive the connection. Null before
  /// the connect completed.
  std::shared_ptr<PGcancel> cancel_handle() const noexcept { return cancel_; }
  /// Sends a cancel request with `handle` (PQcancel; blocks, see request_cancel()).
  static bool send_cancel(PGcancel* handle) noexcept;
  /// Stops the operation in flight from sending its remaining steps (a statement after its
  /// PREPARE, the next chunk of a batch): used when the caller cancelled, so a cancel request
  /// can only ever hit what is already running. The operation then ends with QueryCanceled.
  void abandon_remaining_steps() noexcept;
  /// Marks the connection unusable (after a cancelled wait that could not be drained).
  void mark_broken() noexcept { broken_ = true; }

  /// The socket libpq uses (may change during connect).
  int socket() const noexcept { return PQsocket(conn_); }
  PGconn* native() const noexcept { return conn_; }

  // driver::Connection
  Dialect dialect() const noexcept override { return Dialect::postgresql; }
  std::shared_ptr<const ResultSet> execute(std::string_view sql, std::span<const Value> params) override;
  void execute_script(std::string_view sql) override;
  bool ping() noexcept override;
  bool is_broken() const noexcept override;
  bool in_transaction() const noexcept override;
  int backend_pid() const noexcept override;
  void close() noexcept override;
  bool cancel() noexcept override { return request_cancel(); }
  bool defer(std::string_view sql) override;
  bool discard_deferred() noexcept override;
  bool send_without_reply(std::string_view sql) override;
  std::shared_ptr<const ResultSet> execute_read(std::string_view sql, std::span<const Value> params) override;
  void execute_sliced(std::string_view sql, std::span<const Value> params, std::size_t rows_per_slice,
                      const std::function<void(std::shared_ptr<const ResultSet>)>& on_slice) override;

  /// The server's default_transaction_isolation is READ COMMITTED (asked once at connect).
  bool default_read_committed() const noexcept { return default_read_committed_; }
  /// Undoes session state after a statement that could have changed it (see the interface).
  bool reset_session() noexcept override;
  /// Prepared statements currently cached (for tests and diagnostics).
  std::size_t cached_statements() const noexcept { return cache_index_.size(); }

 private:
  /// Connect's last step: reads the answer to SHOW default_transaction_isolation.
  Wait probe_poll();
  /// The server reports itself read-only (default_transaction_read_only or in_hot_standby on).
  bool server_read_only() const noexcept;
 public:
  /// False (and the connection marked broken) when the URL asked for target_session_attrs=
  /// read-write and the server now reports itself read-only: what pool_pre_ping checks.
  bool still_writable() noexcept;
 private:
  /// Marks the connection broken; the ConnectError carrying libpq's message.
  ConnectError connect_failed();
  PgConnection(PGconn* conn, const ConnectOptions& options, std::string target);

  // Statements and batches always run in pipeline mode, so whatever has to precede them
  // (a deferred BEGIN, DEALLOCATEs, the PREPARE) costs no round trip of its own, and a ROLLBACK
  // sent without waiting (send_without_reply) is simply read back before the next operation.
  // Scripts use the simple query protocol, which needs pipeline mode off.
  enum class Kind { statement, batch, script, cursor };
  // A cursor read's steps, each ended by a sync of its own.
  enum class CursorStep { declaring, fetching, closing };
  struct Op {
    Kind kind = Kind::statement;
    std::string sql;                 // the user's statement, for errors
    std::string script;              // scripts: the text sent (deferred commands + sql)
    bool script_sent = false;        // scripts: false while earlier pipeline results drain
    std::string pending_cache_sql;   // cache key (SQL + parameter types) when this op prepares
    std::string statement_name;
    std::string described_key;       // cache key whose result columns a DESCRIBE will report
    int result_format = 0;           // 1 (binary) when every result column has a binary reader
    bool flushing = false;
    bool read_ahead = false;         // leaves deferred_ queued (a plain read at READ COMMITTED)
    bool abandoned = false;          // cancelled: send no further chunks
    bool done = false;
    PGresult* result = nullptr;      // result of the statement (last one of a script)
    std::exception_ptr error;
    // Batches: one statement, many parameter rows, sent in chunks each ended by a sync.
    std::span<const std::vector<Value>> rows;
    std::size_t next_row = 0;
    std::vector<std::shared_ptr<const ResultSet>> batch;  // cursors: slices not yet taken
    std::size_t last_rows = 0;                            // rows of the latest batch row / slice
    // Cursors.
    CursorStep step = CursorStep::declaring;
    std::string fetch_sql;    // FETCH n FROM <cursor>
    std::string cursor;
    std::size_t fetch_rows = 0;
    int fetches = 0;          // FETCHes sent and not yet synced
    bool exhausted = false;   // a FETCH came back short: the cursor has no more rows
    bool own_transaction = false;
    bool rolled_back = false;  // the own transaction's ROLLBACK is sent
  };
  // One result the server owes, in the order they will arrive. `ours` marks results of the
  // current operation; the others belong to commands sent without waiting, and are read and
  // dropped first (a failure there can only be a lost connection, which the next read sees).
  struct Expect {
    enum What { discard, deallocate, prepare, describe, portal, result, row, sync } what;
    bool ours;
  };

  void check_idle() const;
  bool enter_pipeline();
  bool send_command(const std::string& sql, bool ours);
  bool send_sync(bool ours);
  bool send_queued(const Op& op);
  bool send_prefix(Op& op);
  bool send_fetch(Op& op);
  void cursor_synced(Op& op);
  void end_cursor(Op& op);
  bool send_exec(Op& op, Expect::What what);
  bool send_chunk();
  bool read_pipeline();
  void record_error(Op& op, PGresult* r, Expect::What what);
  Wait poll_script(Op& op);
  void send_script(Op& op);

  void fail_lost(std::string_view during);
  void cache_store(Op& op);
  void cache_described(const Op& op, const PGresult* description);
  void cache_evict(const std::string& key, bool deallocate);
  void cache_evict_name(const std::string& name, bool deallocate);
  std::shared_ptr<const ResultSet> run_blocking();

  PGconn* conn_;
  ConnectOptions options_;
  std::optional<Op> op_;
  std::deque<Expect> expect_;
  std::vector<std::string> deferred_;  // commands to send ahead of the next operation
  ParamBuffer params_;
  std::shared_ptr<PGcancel> cancel_;  // kept until destruction, so request_cancel() may race close()
  bool broken_ = false;
  bool session_touched_ = false;  // a statement may have changed state that outlives its transaction
  bool probing_ = false;                  // connect: waiting for SHOW default_transaction_isolation
  bool default_read_committed_ = false;  // default_transaction_isolation (read at connect)
  bool wants_read_write_ = false;        // target_session_attrs=read-write|primary in the URL
  std::string target_;  // URL without password, for messages

  // Prepared-statement cache: LRU of (SQL text + parameter type OIDs) → statement name.
  std::list<std::string> lru_;  // most recent first; holds cache keys
  struct CacheEntry {
    std::string name;
    std::list<std::string>::iterator pos;
    bool binary_results = false;  // every result column is read in binary (core/pg_binary.hpp)
  };
  std::unordered_map<std::string, CacheEntry> cache_index_;
  std::string cache_key_;  // send_prefix()'s lookup key, reused
  std::string spare_sql_;  // a finished statement's text buffer, for the next one to reuse
  // Evicted statements still prepared on the server. A DEALLOCATE can fail (inside an aborted
  // transaction, or aborted with its pipeline); its name then goes back to to_deallocate_ and is
  // sent again ahead of the next statement, so the server never holds more than the cache bound
  // plus the evictions not yet sent.
  std::vector<std::string> to_deallocate_;
  std::deque<std::string> deallocating_;  // names of DEALLOCATEs sent, in expect_ order
  std::uint64_t next_statement_ = 0;
  std::uint64_t next_cursor_ = 0;
};

}  // namespace corm::driver::postgres
