#include "corm/asyncio/async_connection.hpp"

#include <optional>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncio/async_engine_state.hpp"
#include "corm/core/error.hpp"
#include "front/statement_observer.hpp"

namespace corm {

namespace asio = boost::asio;
using asyncio_detail::AsyncDriverConnection;

// Marks the connection in use by one coroutine for the duration of an operation, so a second
// coroutine using it at the same time gets an error instead of a corrupted protocol stream. A
// compare-exchange, not a test then a store: coroutines on different threads of the io_context
// (no strand) would otherwise both pass the test and drive the driver at once.
class AsyncConnection::Use {
 public:
  enum When { open_only, even_closed };
  explicit Use(AsyncConnection& c, When when = open_only) : c_(c) {
    if (!try_acquire(c_))
      throw UsageError("this AsyncConnection is already running an operation for another coroutine; a connection "
                       "serves one coroutine at a time — give each coroutine its own connection");
    if (when == open_only && c_.closed_) {
      c_.busy_.store(false, std::memory_order_release);
      throw UsageError("this AsyncConnection is closed; check out a new one with co_await engine.connect()");
    }
  }
  ~Use() {
    if (c_.invalidate_pending_.load(std::memory_order_relaxed) && c_.invalidate_pending_.exchange(false))
      [[unlikely]] c_.invalidate_now();
    c_.busy_.store(false, std::memory_order_release);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  static bool try_acquire(AsyncConnection& c) noexcept {
    bool idle = false;
    return c.busy_.compare_exchange_strong(idle, true, std::memory_order_acquire, std::memory_order_relaxed);
  }

 private:
  AsyncConnection& c_;
};

AsyncConnection::AsyncConnection(std::shared_ptr<asyncio_detail::AsyncEngineState> engine,
                                 std::unique_ptr<PooledConnection> c, std::string label, std::source_location where)
    : engine_(std::move(engine)),
      pooled_(std::move(c)),
      tx_(engine_->url.dialect(), engine_->options.isolation_level),
      label_(std::move(label)),
      where_(where) {
  tx_.mirror_to(pooled_->in_transaction.get());
}

AsyncConnection::AsyncConnection(AsyncConnection&& o) noexcept
    : engine_(std::move(o.engine_)),
      pooled_(std::move(o.pooled_)),
      tx_(o.tx_),
      label_(std::move(o.label_)),
      where_(o.where_),
      abandoned_(std::move(o.abandoned_)),
      timeout_(o.timeout_),
      closed_(o.closed_),
      busy_(o.busy_.load(std::memory_order_relaxed)),
      invalidate_pending_(o.invalidate_pending_.load(std::memory_order_relaxed)),
      autobegin_deferred_(o.autobegin_deferred_) {
  o.closed_ = true;
}

AsyncConnection::~AsyncConnection() {
  if (!pooled_ || !engine_) return;
  if (busy_.load(std::memory_order_acquire) || invalidate_pending_.load(std::memory_order_relaxed)) {
    // Destroyed mid-operation (its coroutine frame is going away): the protocol state is
    // unknown, so the physical connection is closed rather than pooled.
    release(true);
    return;
  }
  bool rollback = tx_.in_transaction() || pooled_->conn->in_transaction();
  // A transaction whose BEGIN is still queued never reached the server; otherwise a ROLLBACK
  // sent without waiting resets the connection (PostgreSQL), or is queued ahead of everything
  // else (a worker-thread connection).
  if (rollback && (pooled_->conn->discard_deferred() || pooled_->conn->send_without_reply("ROLLBACK"))) rollback = false;
  if (!rollback && !driver().reset_pending()) {
    release(false);
    return;
  }
  // A destructor cannot co_await: roll back and reset in a detached coroutine, then return the
  // connection.
  auto engine = engine_;
  auto pooled = std::move(pooled_);
  asio::co_spawn(
      engine->executor,
      [engine, pooled = std::move(pooled), rollback]() mutable -> asio::awaitable<void> {
        auto& conn = static_cast<AsyncDriverConnection&>(*pooled->conn);
        bool discard = false;
        try {
          if (rollback) co_await conn.async_execute_script("ROLLBACK", {});
          discard = !co_await conn.async_reset_session();
        } catch (...) {
          discard = true;
        }
        if (discard) pooled->discard_reason = CloseReason::reset_failed;
        engine->pool->checkin(std::move(pooled), discard);
      },
      asio::detached);
}

Dialect AsyncConnection::dialect() const noexcept { return engine_->url.dialect(); }

int AsyncConnection::backend_pid() const noexcept { return pooled_ ? pooled_->conn->backend_pid() : 0; }

void AsyncConnection::set_isolation_level(IsolationLevel level) {
  Use use(*this);
  tx_.set_isolation_level(level);
}

void AsyncConnection::set_next_transaction_read_only() {
  Use use(*this);
  tx_.mark_next_read_only();
}

AsyncDriverConnection& AsyncConnection::driver() const noexcept {
  return static_cast<AsyncDriverConnection&>(*pooled_->conn);
}

std::chrono::milliseconds AsyncConnection::timeout() const noexcept {
  return timeout_.count() > 0 ? timeout_ : engine_->options.command_timeout;
}

void AsyncConnection::release(bool discard, bool reset) noexcept {
  if (!pooled_) return;
  // The next user gets the connection as a fresh one: session state this one changed is reset
  // (or the connection closed). close() has done the reset already, without blocking.
  tx_.mirror_to(nullptr);
  if (!discard && !pooled_->conn->is_broken() && reset && !pooled_->conn->reset_session()) {
    discard = true;
    pooled_->discard_reason = CloseReason::reset_failed;
  }
  engine_->pool->checkin(std::move(pooled_), discard);
}

// While another coroutine's operation runs, the physical connection is still in its hands (its
// driver object mid-statement): that operation discards it as it ends (Use's destructor).
void AsyncConnection::invalidate() noexcept {
  invalidate_pending_.store(true, std::memory_order_relaxed);
  if (!Use::try_acquire(*this)) return;
  if (invalidate_pending_.exchange(false)) invalidate_now();
  busy_.store(false, std::memory_order_release);
}

void AsyncConnection::invalidate_now() noexcept {
  if (!pooled_) return;
  tx_.on_error(true);
  release(true);
}

void AsyncConnection::failed(bool broken) noexcept {
  // When an implicit BEGIN travelled with the failed statement and the connection is dead, no
  // transaction ever started: the next statement may use a fresh connection.
  const bool began_with_this = std::exchange(autobegin_deferred_, false);
  if (broken && began_with_this) (void)tx_.end();
  tx_.on_error(broken);
  if (broken) release(true);
}

// prepare() has nothing to do: a connection is held and no dropped transaction awaits its rollback.
bool AsyncConnection::prepared_now() {
  tx_.check_usable();
  return pooled_ && abandoned_.empty();
}

// Before any statement: a fresh physical connection after a loss outside a transaction, and the
// rollback of transactions whose handles were dropped while active.
asio::awaitable<void> AsyncConnection::prepare() {
  tx_.check_usable();
  if (!pooled_) {
    pooled_ = co_await engine_->pool->checkout(CheckoutSite{label_, where_});
    tx_.mirror_to(pooled_->in_transaction.get());
  }
  co_await settle_abandoned();
}

asio::awaitable<void> AsyncConnection::settle_abandoned() {
  while (!abandoned_.empty()) {
    auto [nested, id] = abandoned_.front();
    abandoned_.erase(abandoned_.begin());
    if (nested) {
      if (tx_.savepoint_active(id)) co_await end_savepoint(id, false);
    } else if (tx_.root_active(id)) {
      co_await finish_transaction(tx_.end());
    }
  }
}

// Where the driver queues the BEGIN to travel with the next statement (PostgreSQL, SQLite's
// worker) nothing is awaited.
bool AsyncConnection::autobegin_now() {
  if (!tx_.needs_autobegin()) return true;
  // Nearly always the one word, without a vector built to hold it.
  std::string_view sql = "BEGIN";
  std::vector<std::string> begin;
  if (!tx_.autobegins_plainly()) {
    begin = tx_.autobegin_statements();
    if (begin.size() != 1) return false;
    sql = begin.front();
  }
  if (!driver().defer(sql)) return false;
  detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, sql, {}, false, {});
  observer.succeeded(nullptr);
  autobegin_deferred_ = true;
  tx_.began();
  return true;
}

asio::awaitable<void> AsyncConnection::autobegin() {
  auto begin = tx_.autobegin_statements();
  if (begin.empty()) co_return;
  autobegin_deferred_ = co_await run_begin(std::move(begin));
  tx_.began();
}

// BEGIN costs no round trip of its own where the driver can send it ahead of the next
// statement (PostgreSQL pipelines it); it is still reported to listeners and echo.
asio::awaitable<bool> AsyncConnection::run_begin(std::vector<std::string> statements) {
  bool deferred = true;
  for (auto& s : statements) {
    if (driver().defer(s)) {
      detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, s, {}, false, {});
      observer.succeeded(nullptr);
    } else {
      co_await run_control(std::move(s));
      deferred = false;
    }
  }
  co_return deferred;
}

// Ends a transaction on the server without waiting for the reply where the driver allows it:
// a transaction whose BEGIN is still queued never reached the server and needs nothing; a
// ROLLBACK is sent at once (releasing locks now) and its reply read before the next operation.
asio::awaitable<void> AsyncConnection::run_end(std::string sql) {
  const bool unsent = driver().discard_deferred();
  if (unsent || (sql == "ROLLBACK" && driver().send_without_reply(sql))) {
    detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, sql, {}, false, {});
    observer.succeeded(nullptr);
    co_return;
  }
  co_await run_control(std::move(sql));
}

asio::awaitable<void> AsyncConnection::run_control(std::string sql) {
  detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, sql, {}, false, {});
  std::exception_ptr error;
  try {
    co_await driver().async_execute_script(sql, timeout());
  } catch (const Error& e) {
    observer.failed(e);
    error = std::current_exception();
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    failed(pooled_->conn->is_broken());
    std::rethrow_exception(error);
  }
  autobegin_deferred_ = false;
  observer.succeeded(nullptr);
}

// The statement runs here rather than in a helper coroutine: a coroutine frame is a heap
// allocation and a resumption, and this is the path of every statement.
asio::awaitable<Result> AsyncConnection::execute(Compiled statement) {
  Use use(*this);
  if (!prepared_now()) co_await prepare();
  if (!autobegin_now()) co_await autobegin();
  // A plain read may go ahead of a deferred BEGIN.
  const bool ahead = statement.plain_read && engine_->options.defer_begin_past_reads && tx_.reads_may_precede_begin();
  const std::string& sql = *statement.sql;
  detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, sql, statement.params,
                                     statement.from_cache, statement.compiled_at);
  std::shared_ptr<const ResultSet> rs;
  std::exception_ptr error;
  try {
    if (ahead) rs = co_await driver().async_execute_read(sql, statement.params, timeout());
    else rs = co_await driver().async_execute(sql, statement.params, timeout());
  } catch (const Error& e) {
    observer.failed(e);
    error = std::current_exception();
  } catch (...) {
    error = std::current_exception();  // cancellation: the driver already cleaned up
  }
  if (error) {
    failed(pooled_->conn->is_broken());
    std::rethrow_exception(error);
  }
  autobegin_deferred_ = false;
  // The server defaults to READ COMMITTED, where reads may run before BEGIN: sessions may
  // pipeline their reads (AsyncEngine::pipelines_reads).
  if (ahead && driver().reads_precede_begin()) engine_->reads_precede_begin.store(true, std::memory_order_relaxed);
  observer.succeeded(rs.get());
  co_return Result(std::move(rs));
}

asio::awaitable<void> AsyncConnection::stream(Compiled statement, std::size_t yield_per,
                                              std::function<void(Result)> on_rows) {
  if (yield_per == 0) throw UsageError("stream(): yield_per must be at least 1 (rows per slice)");
  Use use(*this);
  if (!prepared_now()) co_await prepare();
  if (!autobegin_now()) co_await autobegin();
  const std::string& sql = *statement.sql;
  detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, sql, statement.params,
                                     statement.from_cache, statement.compiled_at);
  bool rows_threw = false;
  std::function<void(std::shared_ptr<const ResultSet>)> on_slice = [&](std::shared_ptr<const ResultSet> rs) {
    try {
      on_rows(Result(std::move(rs)));
    } catch (...) {
      rows_threw = true;
      throw;
    }
  };
  std::exception_ptr error;
  try {
    co_await driver().async_execute_sliced(sql, statement.params, yield_per, timeout(), on_slice);
  } catch (const Error& e) {
    if (!rows_threw) observer.failed(e);
    error = std::current_exception();
  } catch (...) {
    error = std::current_exception();  // cancellation, or on_rows threw
  }
  if (error) {
    // The caller's own exception leaves the transaction as it was: the driver closed the cursor.
    if (!rows_threw || pooled_->conn->is_broken()) failed(pooled_->conn->is_broken());
    std::rethrow_exception(error);
  }
  autobegin_deferred_ = false;
  observer.succeeded(nullptr);
}

asio::awaitable<Result> AsyncConnection::execute(const TextClause& statement, const Params& params) {
  return execute(statement.compile(dialect(), params));
}

asio::awaitable<Result> AsyncConnection::exec_driver_sql(std::string sql, std::vector<Value> params) {
  Compiled c;
  c.sql = std::make_shared<const std::string>(std::move(sql));
  c.params = std::move(params);
  return execute(std::move(c));
}

asio::awaitable<std::vector<Result>> AsyncConnection::execute_many(std::string sql,
                                                                   std::vector<std::vector<Value>> rows) {
  Use use(*this);
  if (!prepared_now()) co_await prepare();
  if (!autobegin_now()) co_await autobegin();
  detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, sql, {}, false, {});
  std::vector<std::shared_ptr<const ResultSet>> sets;
  std::exception_ptr error;
  try {
    sets = co_await driver().async_execute_many(sql, rows, timeout());
  } catch (const Error& e) {
    observer.failed(e);
    error = std::current_exception();
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    failed(pooled_->conn->is_broken());
    std::rethrow_exception(error);
  }
  autobegin_deferred_ = false;
  observer.succeeded(nullptr);
  std::vector<Result> out;
  out.reserve(sets.size());
  for (auto& s : sets) out.emplace_back(std::move(s));
  co_return out;
}

asio::awaitable<std::vector<Result>> AsyncConnection::execute_many(const TextClause& statement,
                                                                   const std::vector<Params>& rows) {
  std::string sql;
  std::vector<std::vector<Value>> values;
  values.reserve(rows.size());
  for (const auto& p : rows) {
    Compiled c = statement.compile(dialect(), p);
    if (sql.empty()) sql = *c.sql;
    values.push_back(std::move(c.params));
  }
  if (sql.empty()) sql = *statement.compile(dialect(), {}).sql;
  return execute_many(std::move(sql), std::move(values));
}

asio::awaitable<void> AsyncConnection::execute_script(std::string sql) {
  Use use(*this);
  if (!prepared_now()) co_await prepare();
  if (!autobegin_now()) co_await autobegin();
  co_await run_control(std::move(sql));
}

asio::awaitable<AsyncTransaction> AsyncConnection::begin() {
  Use use(*this);
  co_await prepare();
  co_await run_begin(tx_.begin_statements());
  co_return AsyncTransaction(this, false, tx_.began());
}

asio::awaitable<AsyncTransaction> AsyncConnection::begin_nested() {
  Use use(*this);
  co_await prepare();
  if (!tx_.in_transaction()) {
    co_await run_begin(tx_.begin_statements());
    tx_.began();
  }
  auto [sql, id] = tx_.savepoint_statement();
  co_await run_control(std::move(sql));
  tx_.savepoint_opened(id);
  co_return AsyncTransaction(this, true, id);
}

asio::awaitable<void> AsyncConnection::end_savepoint(std::uint64_t id, bool commit) {
  co_await run_control(tx_.end_savepoint_statement(id, commit));
  tx_.savepoint_ended(id, commit);
}

asio::awaitable<void> AsyncConnection::finish_transaction(bool send_rollback) {
  if (!pooled_) co_return;
  if (send_rollback) co_await run_end("ROLLBACK");
  else (void)driver().discard_deferred();
  for (auto& s : tx_.after_end_statements()) co_await run_control(std::move(s));
}

asio::awaitable<void> AsyncConnection::commit() { return commit_impl(true); }

asio::awaitable<void> AsyncConnection::commit_impl(bool take_use) {
  std::optional<Use> use;
  if (take_use) use.emplace(*this);
  if (!tx_.in_transaction()) co_return;
  tx_.check_commit();
  co_await settle_abandoned();
  if (!tx_.in_transaction()) co_return;
  if (tx_.commit_refused()) {
    co_await finish_transaction(tx_.end());
    detail::TransactionState::throw_commit_refused();
  }
  tx_.end();
  co_await run_end("COMMIT");
  co_await finish_transaction(false);
}

asio::awaitable<void> AsyncConnection::rollback() { return rollback_impl(true); }

asio::awaitable<void> AsyncConnection::rollback_impl(bool take_use) {
  std::optional<Use> use;
  if (take_use) use.emplace(*this);
  abandoned_.clear();
  if (!tx_.in_transaction()) co_return;
  co_await finish_transaction(tx_.end());
}

// Only a transaction whose BEGIN never left the client ends here: anything the server has seen
// needs the ROLLBACK that close() sends.
bool AsyncConnection::close_now() noexcept {
  if (!Use::try_acquire(*this)) return false;  // close() reports it
  bool done = true;
  if (!closed_) {
    if (pooled_ && (tx_.in_transaction() || pooled_->conn->in_transaction())) {
      if (tx_.has_after_end_statements() || !driver().discard_deferred()) done = false;
      else (void)tx_.end();
    }
    if (done && pooled_ && driver().reset_pending()) done = false;  // close() resets without blocking
    if (done) {
      abandoned_.clear();
      closed_ = true;
      release(invalidate_pending_.exchange(false));
    }
  }
  busy_.store(false, std::memory_order_release);
  return done;
}

asio::awaitable<void> AsyncConnection::close() {
  if (close_now()) co_return;
  if (!Use::try_acquire(*this))
    throw UsageError("cannot close an AsyncConnection while another coroutine is using it");
  bool discard = false;
  if (!closed_ && pooled_ && (tx_.in_transaction() || pooled_->conn->in_transaction())) {
    try {
      const bool send = tx_.end() || pooled_->conn->in_transaction();
      if (send && !driver().discard_deferred()) {
        // Echo and listeners see this ROLLBACK like any other (a failed transactional() ends here).
        detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, "ROLLBACK", {}, false, {});
        if (!driver().send_without_reply("ROLLBACK")) co_await driver().async_execute_script("ROLLBACK", {});
        observer.succeeded(nullptr);
      }
      for (auto& s : tx_.after_end_statements()) co_await driver().async_execute_script(s, {});
    } catch (...) {
      discard = true;
    }
  }
  discard = discard || invalidate_pending_.exchange(false);
  if (!discard && pooled_ && !closed_) {
    try {
      discard = !co_await driver().async_reset_session();
    } catch (...) {
      discard = true;
    }
  }
  abandoned_.clear();
  closed_ = true;
  release(discard, false);
  busy_.store(false, std::memory_order_release);
}

// --- AsyncTransaction ----------------------------------------------------------------------

AsyncTransaction::AsyncTransaction(AsyncTransaction&& o) noexcept : conn_(o.conn_), nested_(o.nested_), id_(o.id_) {
  o.conn_ = nullptr;
}

bool AsyncTransaction::is_active() const noexcept {
  if (conn_ == nullptr || conn_->closed_) return false;
  return nested_ ? conn_->tx_.savepoint_active(id_) : conn_->tx_.root_active(id_);
}

asio::awaitable<void> AsyncTransaction::commit() {
  if (conn_ == nullptr) throw UsageError("this transaction is no longer active (already committed or rolled back)");
  AsyncConnection::Use use(*conn_);
  if (!is_active()) throw UsageError("this transaction is no longer active (already committed or rolled back)");
  if (!nested_) co_await conn_->commit_impl(false);
  else co_await conn_->end_savepoint(id_, true);
}

asio::awaitable<void> AsyncTransaction::rollback() {
  if (conn_ == nullptr) co_return;
  AsyncConnection::Use use(*conn_, AsyncConnection::Use::even_closed);
  if (!is_active()) co_return;
  if (!nested_) co_await conn_->rollback_impl(false);
  else co_await conn_->end_savepoint(id_, false);
}

AsyncTransaction::~AsyncTransaction() {
  if (is_active()) conn_->abandoned_.emplace_back(nested_, id_);
}

}  // namespace corm
