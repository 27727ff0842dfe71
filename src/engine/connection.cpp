#include "corm/engine/connection.hpp"

#include <utility>

#include "corm/core/error.hpp"
#include "engine/engine_state.hpp"
#include "front/statement_observer.hpp"

namespace corm {

Connection::Connection(std::shared_ptr<detail::EngineState> engine, std::string_view label,
                       std::source_location where)
    : engine_(std::move(engine)), tx_(engine_->url.dialect(), engine_->options.isolation_level), label_(label),
      where_(where) {
  // Like SQLAlchemy's engine.connect(): the checkout (and its PoolTimeout) happens here.
  checkout();
}

void Connection::checkout() {
  pooled_ = engine_->pool->checkout(CheckoutSite{label_, where_});
  tx_.mirror_to(pooled_->in_transaction.get());
}

Connection::Connection(Connection&& o) noexcept
    : engine_(std::move(o.engine_)),
      pooled_(std::move(o.pooled_)),
      tx_(o.tx_),
      label_(std::move(o.label_)),
      where_(o.where_),
      closed_(o.closed_) {
  o.closed_ = true;
}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    close();
    engine_ = std::move(o.engine_);
    pooled_ = std::move(o.pooled_);
    tx_ = o.tx_;
    label_ = std::move(o.label_);
    where_ = o.where_;
    closed_ = o.closed_;
    o.closed_ = true;
  }
  return *this;
}

Connection::~Connection() { close(); }

Dialect Connection::dialect() const noexcept { return engine_->url.dialect(); }
bool Connection::closed() const noexcept { return closed_; }
bool Connection::in_transaction() const noexcept { return tx_.in_transaction(); }
bool Connection::in_nested_transaction() const noexcept { return tx_.in_nested_transaction(); }
IsolationLevel Connection::isolation_level() const noexcept { return tx_.isolation_level(); }
void Connection::set_isolation_level(IsolationLevel level) { tx_.set_isolation_level(level); }
void Connection::set_next_transaction_read_only() { tx_.mark_next_read_only(); }

void Connection::ensure_usable() {
  if (closed_) throw UsageError("this Connection is closed; check out a new one with engine.connect()");
  tx_.check_usable();
  // After a connection was lost outside a transaction, the next statement gets a fresh one.
  if (!pooled_) checkout();
}

void Connection::autobegin() {
  auto statements = tx_.autobegin_statements();
  if (statements.empty()) return;
  autobegin_deferred_ = run_begin(statements);
  tx_.began();
}

Result Connection::execute(Compiled statement) {
  ensure_usable();
  autobegin();
  const bool ahead = statement.plain_read && engine_->options.defer_begin_past_reads && tx_.reads_may_precede_begin();
  return run(*statement.sql, statement.params, statement.from_cache, statement.compiled_at,
             ahead ? Send::read_ahead : Send::statement);
}

void Connection::stream(Compiled statement, std::size_t yield_per, const std::function<void(Result)>& on_rows) {
  if (yield_per == 0) throw UsageError("stream(): yield_per must be at least 1 (rows per slice)");
  ensure_usable();
  autobegin();
  const std::string& sql = *statement.sql;
  detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, sql, statement.params,
                                     statement.from_cache, statement.compiled_at);
  const bool began_with_this = std::exchange(autobegin_deferred_, false);
  bool rows_threw = false;
  auto on_slice = [&](std::shared_ptr<const ResultSet> rs) {
    try {
      on_rows(Result(std::move(rs)));
    } catch (...) {
      rows_threw = true;
      throw;
    }
  };
  try {
    pooled_->conn->execute_sliced(sql, statement.params, yield_per, on_slice);
  } catch (const Error& e) {
    if (!rows_threw) observer.failed(e);
    const bool broken = (!rows_threw && e.poisons_connection()) || pooled_->conn->is_broken();
    // The caller's own exception leaves the transaction as it was: the driver closed the cursor.
    if (rows_threw && !broken) throw;
    if (broken && began_with_this) (void)tx_.end();
    tx_.on_error(broken);
    if (broken) release(true);
    throw;
  }
  observer.succeeded(nullptr);
}

Result Connection::execute(const TextClause& statement, const Params& params) {
  return execute(statement.compile(dialect(), params));
}

Result Connection::exec_driver_sql(std::string_view sql, std::vector<Value> params) {
  ensure_usable();
  autobegin();
  return run(sql, params, false, {});
}

void Connection::execute_script(std::string_view sql) {
  ensure_usable();
  autobegin();
  run(sql, {}, false, {}, Send::control);
}

Result Connection::run(std::string_view sql, std::span<const Value> params, bool from_cache,
                       std::chrono::steady_clock::time_point compiled_at, Send how) {
  detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, sql, params, from_cache,
                                     compiled_at);
  std::shared_ptr<const ResultSet> rs;
  // When an implicit BEGIN travels with this statement and the connection turns out to be
  // dead, no transaction ever started: the next statement may use a fresh connection. (After a
  // read that went ahead of the BEGIN the transaction has begun for the caller, who then
  // rolls back after a loss as after any other.)
  const bool began_with_this = std::exchange(autobegin_deferred_, false);
  try {
    if (how == Send::control) pooled_->conn->execute_script(sql);  // BEGIN/COMMIT/SAVEPOINT/scripts: never prepared
    else if (how == Send::read_ahead) rs = pooled_->conn->execute_read(sql, params);
    else rs = pooled_->conn->execute(sql, params);
  } catch (const Error& e) {
    observer.failed(e);
    const bool broken = e.poisons_connection() || pooled_->conn->is_broken();
    if (broken && began_with_this) (void)tx_.end();
    tx_.on_error(broken);
    if (broken) release(true);
    throw;
  }
  observer.succeeded(rs.get());
  return Result(std::move(rs));
}

// BEGIN costs no round trip of its own where the driver can send it ahead of the next
// statement (PostgreSQL pipelines it); it is still reported to listeners and echo.
bool Connection::run_begin(const std::vector<std::string>& statements) {
  bool deferred = true;
  for (const auto& s : statements) {
    if (pooled_->conn->defer(s)) {
      detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, s, {}, false, {});
      observer.succeeded(nullptr);
    } else {
      run_control(s);
      deferred = false;
    }
  }
  return deferred;
}

// Ends a transaction without waiting for the reply where the driver allows it: a transaction
// whose BEGIN is still queued never reached the server; a ROLLBACK is sent at once (releasing
// locks now) and its reply read before the next operation.
void Connection::run_end(std::string_view sql) {
  const bool unsent = pooled_->conn->discard_deferred();
  if (unsent || (sql == "ROLLBACK" && pooled_->conn->send_without_reply(sql))) {
    detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, sql, {}, false, {});
    observer.succeeded(nullptr);
    return;
  }
  run_control(sql);
}

Transaction Connection::begin() {
  ensure_usable();
  run_begin(tx_.begin_statements());
  return Transaction(this, 0, tx_.began());
}

Transaction Connection::begin_nested() {
  ensure_usable();
  if (!tx_.in_transaction()) {
    run_begin(tx_.begin_statements());
    tx_.began();
  }
  auto [sql, id] = tx_.savepoint_statement();
  run_control(sql);
  tx_.savepoint_opened(id);
  return Transaction(this, 1, id);
}

void Connection::end_savepoint(std::uint64_t id, bool commit) {
  const std::string sql = tx_.end_savepoint_statement(id, commit);
  run_control(sql);
  tx_.savepoint_ended(id, commit);
}

void Connection::end_transaction_statements(bool rollback) {
  if (!pooled_) return;
  if (rollback) run_end("ROLLBACK");
  else (void)pooled_->conn->discard_deferred();
  for (const auto& s : tx_.after_end_statements()) run_control(s);
}

void Connection::commit() {
  if (closed_) throw UsageError("this Connection is closed; check out a new one with engine.connect()");
  if (!tx_.in_transaction()) return;
  tx_.check_commit();
  if (tx_.commit_refused()) {
    rollback();
    detail::TransactionState::throw_commit_refused();
  }
  tx_.end();
  run_end("COMMIT");
  end_transaction_statements(false);
}

void Connection::rollback() {
  if (!tx_.in_transaction()) return;
  // After a loss the server already rolled back; end() says whether ROLLBACK is still needed.
  const bool send = tx_.end();
  end_transaction_statements(send);
}

void Connection::close() noexcept {
  if (closed_) return;
  closed_ = true;
  if (!pooled_) return;
  bool discard = false;
  if (tx_.in_transaction() || pooled_->conn->in_transaction()) {
    // Reset on return: the next user must get a connection with no transaction open.
    try {
      const bool send = tx_.end() || pooled_->conn->in_transaction();
      const bool unsent = pooled_->conn->discard_deferred();
      if (send && !unsent) {
        // Echo and listeners see this ROLLBACK like any other (a failed transactional() ends here).
        detail::StatementObserver observer(engine_->events, engine_->options, pooled_->id, "ROLLBACK", {}, false, {});
        if (!pooled_->conn->send_without_reply("ROLLBACK")) pooled_->conn->execute_script("ROLLBACK");
        observer.succeeded(nullptr);
      }
      for (const auto& s : tx_.after_end_statements()) pooled_->conn->execute_script(s);
    } catch (...) {
      discard = true;
      pooled_->discard_reason = CloseReason::reset_failed;
    }
  }
  release(discard);
}

void Connection::invalidate() noexcept {
  if (!pooled_) return;
  tx_.on_error(true);
  release(true);
}

void Connection::release(bool discard) noexcept {
  if (!pooled_) return;
  // The next user gets the connection as a fresh one: session state this one changed is reset
  // (or the connection closed).
  tx_.mirror_to(nullptr);
  if (!discard && !pooled_->conn->is_broken() && !pooled_->conn->reset_session()) {
    discard = true;
    pooled_->discard_reason = CloseReason::reset_failed;
  }
  engine_->pool->checkin(std::move(pooled_), discard);
}

int Connection::backend_pid() {
  ensure_usable();
  return pooled_->conn->backend_pid();
}

driver::Connection& Connection::driver_connection() {
  ensure_usable();
  return *pooled_->conn;
}

// --- Transaction ---------------------------------------------------------------------------

Transaction::Transaction(Transaction&& o) noexcept : conn_(o.conn_), depth_(o.depth_), serial_(o.serial_) {
  o.conn_ = nullptr;
}

bool Transaction::is_active() const noexcept {
  if (conn_ == nullptr || conn_->closed_) return false;
  return depth_ == 0 ? conn_->tx_.root_active(serial_) : conn_->tx_.savepoint_active(serial_);
}

void Transaction::commit() {
  if (!is_active()) throw UsageError("this transaction is no longer active (already committed or rolled back)");
  if (depth_ == 0) conn_->commit();
  else conn_->end_savepoint(serial_, true);
}

void Transaction::rollback() {
  if (!is_active()) return;  // rolling back twice is harmless, as in SQLAlchemy
  if (depth_ == 0) conn_->rollback();
  else conn_->end_savepoint(serial_, false);
}

Transaction::~Transaction() {
  if (!is_active()) return;
  try {
    rollback();
  } catch (...) {
    // A failed rollback leaves the connection in an unknown state: never reuse it.
    conn_->invalidate();
  }
}

}  // namespace corm
