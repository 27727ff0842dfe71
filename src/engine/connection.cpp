#include "corm/engine/connection.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "corm/core/error.hpp"
#include "engine/echo.hpp"
#include "engine/engine_state.hpp"

namespace corm {

Connection::Connection(std::shared_ptr<detail::EngineState> engine) : engine_(std::move(engine)) {
  // Like SQLAlchemy's engine.connect(): the checkout (and its PoolTimeout) happens here.
  pooled_ = engine_->pool->checkout();
}

Connection::Connection(Connection&& o) noexcept
    : engine_(std::move(o.engine_)),
      pooled_(std::move(o.pooled_)),
      isolation_(o.isolation_),
      closed_(o.closed_),
      in_tx_(o.in_tx_),
      lost_in_tx_(o.lost_in_tx_),
      tx_failed_(o.tx_failed_),
      sqlite_read_uncommitted_(o.sqlite_read_uncommitted_),
      savepoints_(std::move(o.savepoints_)),
      tx_serial_(o.tx_serial_),
      root_id_(o.root_id_) {
  o.closed_ = true;
  o.in_tx_ = false;
}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    close();
    engine_ = std::move(o.engine_);
    pooled_ = std::move(o.pooled_);
    isolation_ = o.isolation_;
    closed_ = o.closed_;
    in_tx_ = o.in_tx_;
    lost_in_tx_ = o.lost_in_tx_;
    tx_failed_ = o.tx_failed_;
    savepoints_ = std::move(o.savepoints_);
    tx_serial_ = o.tx_serial_;
    root_id_ = o.root_id_;
    sqlite_read_uncommitted_ = o.sqlite_read_uncommitted_;
    o.closed_ = true;
    o.in_tx_ = false;
  }
  return *this;
}

Connection::~Connection() { close(); }

Dialect Connection::dialect() const noexcept { return engine_->url.dialect(); }

bool Connection::closed() const noexcept { return closed_; }

void Connection::ensure_usable() {
  if (closed_) throw UsageError("this Connection is closed; check out a new one with engine.connect()");
  if (lost_in_tx_)
    throw ConnectionLost("the connection was lost inside a transaction, which the server has rolled back; "
                         "call rollback() to acknowledge it, then continue on a fresh connection");
  if (!pooled_) pooled_ = engine_->pool->checkout();
}

void Connection::ensure_transaction() {
  if (in_tx_) return;
  const IsolationLevel level = isolation_level();
  if (level == IsolationLevel::autocommit) return;
  if (dialect() == Dialect::sqlite && level == IsolationLevel::read_uncommitted) {
    // SQLite honours READ UNCOMMITTED only through this pragma (and only with a shared cache);
    // it is switched off again when the transaction ends.
    run_control("PRAGMA read_uncommitted = 1");
    sqlite_read_uncommitted_ = true;
  }
  run_control(detail::begin_statement(dialect(), level, isolation_.has_value()));
  in_tx_ = true;
  tx_failed_ = false;
  root_id_ = ++tx_serial_;
}

IsolationLevel Connection::isolation_level() const noexcept {
  if (isolation_) return *isolation_;
  if (engine_->options.isolation_level) return *engine_->options.isolation_level;
  return detail::default_isolation(dialect());
}

void Connection::set_isolation_level(IsolationLevel level) {
  if (in_tx_)
    throw UsageError("cannot change the isolation level inside a transaction; commit() or rollback() first");
  isolation_ = level;
}

Result Connection::execute(Compiled statement) {
  ensure_usable();
  ensure_transaction();
  return run(*statement.sql, statement.params, statement.from_cache, statement.compiled_at);
}

Result Connection::execute(const TextClause& statement, const Params& params) {
  return execute(statement.compile(dialect(), params));
}

Result Connection::exec_driver_sql(std::string_view sql, std::vector<Value> params) {
  ensure_usable();
  ensure_transaction();
  return run(sql, params, false, {});
}

void Connection::execute_script(std::string_view sql) {
  ensure_usable();
  ensure_transaction();
  run(sql, {}, false, {}, true);
}

Result Connection::run(std::string_view sql, std::span<const Value> params, bool from_cache,
                       std::chrono::steady_clock::time_point compiled_at, bool control) {
  const auto& state = *engine_;
  const bool observed = state.events.has_statement_listeners();
  StatementEvent ev;
  if (observed) {
    ev.sql = sql;
    ev.parameters = params;
    ev.from_cache = from_cache;
    ev.connection_id = pooled_->id;
    state.events.emit_before_execute(ev);
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<const ResultSet> rs;
  try {
    if (control) pooled_->conn->execute_script(sql);  // BEGIN/COMMIT/SAVEPOINT: never prepared
    else rs = pooled_->conn->execute(sql, params);
  } catch (const Error& e) {
    ev.duration = std::chrono::steady_clock::now() - t0;
    if (observed) {
      ev.error = &e;
      state.events.emit_after_execute(ev);
    }
    if (state.options.echo)
      detail::echo_statement(state.log, state.options.echo_parameters,
                             {sql, params, ev.duration, -1, from_cache, compiled_at, e.what()});
    note_failure(e);
    throw;
  }
  ev.duration = std::chrono::steady_clock::now() - t0;
  const std::int64_t rows = !rs ? -1 : rs->column_count() > 0 ? static_cast<std::int64_t>(rs->size()) : rs->affected_rows();
  if (observed) {
    ev.rows = rows;
    state.events.emit_after_execute(ev);
  }
  if (state.options.echo)
    detail::echo_statement(state.log, state.options.echo_parameters,
                           {sql, params, ev.duration, rows, from_cache, compiled_at, {}});
  return Result(std::move(rs));
}

void Connection::run_control(std::string_view sql) { run(sql, {}, false, {}, true); }

void Connection::note_failure(const Error& e) noexcept {
  if (e.poisons_connection() || (pooled_ && pooled_->conn->is_broken())) {
    if (in_tx_) lost_in_tx_ = true;
    release(true);
    return;
  }
  // PostgreSQL refuses every statement after a failure until the transaction (or the
  // savepoint) is rolled back; remember it so commit() cannot silently turn into a rollback.
  if (in_tx_ && dialect() == Dialect::postgresql) tx_failed_ = true;
}

Transaction Connection::begin() {
  ensure_usable();
  if (in_tx_)
    throw UsageError("a transaction is already in progress on this connection; commit() or rollback() it, "
                     "or use begin_nested() for a savepoint");
  const IsolationLevel level = isolation_level();
  if (level == IsolationLevel::autocommit) {
    // An explicit begin() under AUTOCOMMIT still means "one transaction, please".
    run_control("BEGIN");
    in_tx_ = true;
    tx_failed_ = false;
    root_id_ = ++tx_serial_;
  } else {
    ensure_transaction();
  }
  return Transaction(this, 0, root_id_);
}

Transaction Connection::begin_nested() {
  ensure_usable();
  if (!in_tx_) {
    if (isolation_level() == IsolationLevel::autocommit) {
      run_control("BEGIN");
      in_tx_ = true;
      root_id_ = ++tx_serial_;
    } else {
      ensure_transaction();
    }
  }
  const std::uint64_t id = ++tx_serial_;
  run_control(fmt::format("SAVEPOINT corm_sp_{}", id));
  savepoints_.push_back(id);
  return Transaction(this, savepoints_.size(), id);
}

bool Connection::savepoint_active(std::uint64_t id) const noexcept {
  return in_tx_ && std::find(savepoints_.begin(), savepoints_.end(), id) != savepoints_.end();
}

void Connection::end_savepoint(std::uint64_t id, bool commit) {
  auto it = std::find(savepoints_.begin(), savepoints_.end(), id);
  if (!in_tx_ || it == savepoints_.end())
    throw UsageError("this savepoint is no longer active (its transaction ended or an outer savepoint closed it)");
  if (lost_in_tx_) {
    throw ConnectionLost("the connection was lost inside a transaction; call rollback() on the connection");
  }
  if (commit) {
    if (tx_failed_)
      throw DatabaseError("cannot release the savepoint: a statement inside it failed; roll the savepoint back instead");
    run_control(fmt::format("RELEASE SAVEPOINT corm_sp_{}", id));
  } else {
    run_control(fmt::format("ROLLBACK TO SAVEPOINT corm_sp_{}", id));
    tx_failed_ = false;  // the failure is undone with the savepoint
  }
  savepoints_.erase(it, savepoints_.end());
}

void Connection::commit() {
  if (closed_) throw UsageError("this Connection is closed; check out a new one with engine.connect()");
  if (!in_tx_) return;
  if (lost_in_tx_)
    throw ConnectionLost("cannot commit: the connection was lost inside the transaction, which the server "
                         "rolled back; call rollback() and run the transaction again");
  if (tx_failed_) {
    rollback();
    throw DatabaseError("cannot commit: a statement failed earlier in this transaction, so PostgreSQL aborted it; "
                        "the transaction has been rolled back — fix the failing statement and run it again");
  }
  in_tx_ = false;
  savepoints_.clear();
  run_control("COMMIT");
  reset_session_state();
}

void Connection::reset_session_state() {
  if (sqlite_read_uncommitted_ && pooled_) {
    sqlite_read_uncommitted_ = false;
    run_control("PRAGMA read_uncommitted = 0");
  }
}

void Connection::rollback() {
  if (!in_tx_) return;
  in_tx_ = false;
  tx_failed_ = false;
  savepoints_.clear();
  if (lost_in_tx_ || !pooled_) {
    lost_in_tx_ = false;  // the server already rolled it back when the connection died
    return;
  }
  run_control("ROLLBACK");
  reset_session_state();
}

void Connection::close() noexcept {
  if (closed_) return;
  closed_ = true;
  if (!pooled_) return;
  bool discard = false;
  if (in_tx_ || pooled_->conn->in_transaction()) {
    // Reset on return: the next user must get a connection with no transaction open.
    try {
      in_tx_ = false;
      savepoints_.clear();
      pooled_->conn->execute_script("ROLLBACK");
      if (sqlite_read_uncommitted_) pooled_->conn->execute_script("PRAGMA read_uncommitted = 0");
    } catch (...) {
      discard = true;
    }
  }
  release(discard);
}

void Connection::invalidate() noexcept {
  if (pooled_) {
    if (in_tx_) lost_in_tx_ = true;
    release(true);
  }
}

void Connection::release(bool discard) noexcept {
  if (!pooled_) return;
  engine_->pool->checkin(std::move(pooled_), discard || pooled_->conn->is_broken());
}

int Connection::backend_pid() {
  ensure_usable();
  return pooled_->conn->backend_pid();
}

driver::Connection& Connection::driver_connection() {
  ensure_usable();
  return *pooled_->conn;
}

bool Connection::in_transaction() const noexcept { return in_tx_; }
bool Connection::in_nested_transaction() const noexcept { return in_tx_ && !savepoints_.empty(); }

// --- Transaction ---------------------------------------------------------------------------

Transaction::Transaction(Transaction&& o) noexcept : conn_(o.conn_), depth_(o.depth_), serial_(o.serial_) {
  o.conn_ = nullptr;
}

bool Transaction::is_active() const noexcept {
  if (conn_ == nullptr || conn_->closed_ || !conn_->in_tx_) return false;
  if (depth_ == 0) return conn_->root_id_ == serial_;
  return conn_->savepoint_active(serial_);
}

void Transaction::commit() {
  if (!is_active())
    throw UsageError("this transaction is no longer active (already committed or rolled back)");
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
