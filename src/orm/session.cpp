#include "corm/orm/session.hpp"

#include <chrono>

#include "orm/router_probe.hpp"

namespace corm {

Session::Session(Engine engine, SessionOptions options, std::source_location where)
    : engine_(std::move(engine)), options_(options), where_(where),
      core_(std::make_shared<orm::SessionCore>(engine_.dialect(), options, engine_.options().log)) {
  // The sync front may block, so an unloaded lazy relationship is loaded on access.
  core_->set_lazy_runner([this](orm::LoadPlan& plan) { run(plan); });
}

Session::~Session() {
  try {
    close_impl(false);
  } catch (...) {
  }
}

Connection& Session::connection() {
  if (!conn_) {
    conn_.emplace(engine_.connect(options_.label, where_));
    if (options_.isolation_level) conn_->set_isolation_level(*options_.isolation_level);
  }
  return *conn_;
}

Result Session::run_compiled(Compiled c, orm::StatementRole role) {
  orm::Step st;
  st.statements.push_back(std::move(c));
  return std::move(run_step(st, role).front());
}

// --- read/write routing hook ---
void Session::set_router(Engine reader, std::shared_ptr<orm::StatementRouter> router) {
  if (conn_ || reader_conn_) throw UsageError("set_router(): the session has already run statements; set it first");
  if (reader.dialect() != engine_.dialect())
    throw UsageError("set_router(): the reader engine's dialect differs from the session's engine");
  reader_.emplace(std::move(reader));
  router_ = std::move(router);
}

Connection& Session::connection_for(orm::StatementRole role) {
  if (!router_ || !router_->to_reader(role)) return connection();
  if (!reader_conn_) {
    reader_conn_.emplace(reader_->connect(options_.label, where_));
    if (options_.isolation_level) reader_conn_->set_isolation_level(*options_.isolation_level);
  }
  if (std::optional<orm::RouterProbe> probe = router_->reader_probe(); probe && !reader_caught_up(*probe))
    return connection();
  return *reader_conn_;
}

bool Session::reader_caught_up(const orm::RouterProbe& probe) {
  // The read must see the replica as the probe found it: a snapshot taken earlier would not.
  if (reader_conn_->in_transaction()) reader_conn_->rollback();
  Result r = reader_conn_->execute(orm::detail::probe_statement(probe));
  const bool ready = router_->reader_ready(orm::detail::probe_answer(r));
  if (ready && orm::detail::probe_fixed_snapshot(*reader_conn_)) reader_conn_->rollback();
  return ready;
}

void Session::committed_to_router() {
  if (!router_ || !conn_) return;
  std::optional<orm::RouterProbe> probe = router_->commit_probe();
  if (!probe) return;
  std::optional<std::string> answer;
  try {
    if (conn_->dialect() == Dialect::mysql) {
      // @@last_gtid belongs to this connection, so the probe runs here, under AUTOCOMMIT: no
      // START TRANSACTION / ROLLBACK round trips. The level cannot be set back to "the engine's
      // default", so the connection goes back to the pool; the next statement checks one out.
      conn_->set_isolation_level(IsolationLevel::autocommit);
      answer = orm::detail::probe_answer(conn_->execute(orm::detail::probe_statement(*probe)));
      conn_->close();
      conn_.reset();
    } else {
      // A plain read goes ahead of the BEGIN it autobegins, which stays queued and is dropped.
      answer = orm::detail::probe_answer(conn_->execute(orm::detail::probe_statement(*probe)));
      conn_->rollback();
    }
  } catch (const Error&) {
    // The commit stands; without its position the router keeps reads on the writer (the safe
    // side), which position_unknown() reports. Throwing here would pass for a failed commit.
    if (conn_ && conn_->dialect() == Dialect::mysql) {
      conn_->close();
      conn_.reset();
    } else if (conn_) {
      conn_->rollback();  // the probe's own (failed) transaction
    }
    answer.reset();
  }
  router_->committed(answer);
}

void Session::transaction_ended() {
  if (reader_conn_) reader_conn_->rollback();  // it only read: end its snapshot with the session's
  if (router_) router_->transaction_ended();
}
// --- end of the routing hook ---

// The session's connection for `role`; a read-only session's transaction is marked so first.
Connection& Session::connection_to_read(orm::StatementRole role) {
  Connection& conn = connection_for(role);
  if (options_.read_only && conn.dialect() != Dialect::sqlite && !conn.in_transaction() &&
      conn.isolation_level() != IsolationLevel::autocommit) {
    // The server then refuses writes too. MySQL takes READ ONLY only with START TRANSACTION; on
    // PostgreSQL SET TRANSACTION travels with the pipelined BEGIN.
    if (conn.dialect() == Dialect::mysql)
      conn.set_next_transaction_read_only();
    else
      conn.exec_driver_sql("SET TRANSACTION READ ONLY");  // autobegins
  }
  return conn;
}

std::vector<Result> Session::run_step(const orm::Step& step, orm::StatementRole role) {
  Connection& conn = connection_to_read(role);
  std::vector<Result> out;
  out.reserve(step.statements.size());
  auto t0 = std::chrono::steady_clock::now();
  for (const Compiled& c : step.statements) out.push_back(conn.execute(c));
  core_->record(step, std::chrono::steady_clock::now() - t0);
  return out;
}

std::vector<std::shared_ptr<void>> Session::query(const orm::EntityOps& ops, sql::detail::SelectCore core,
                                                  const std::vector<LoadOption>& opts, std::size_t yield_per) {
  autoflush();
  auto role = core.for_update.enabled ? orm::StatementRole::read_for_write : orm::StatementRole::read;
  auto plan = core_->query_plan(ops, std::move(core), opts, false);
  while (const orm::Step* st = plan.next()) {
    const std::size_t slice = plan.rows_per_fetch(yield_per);
    if (slice == 0) {
      plan.feed(run_step(*st, role));
      continue;
    }
    Connection& conn = connection_to_read(role);
    auto t0 = std::chrono::steady_clock::now();
    conn.stream(st->statements.front(), slice, [&plan](Result rows) { plan.feed_slice(rows); });
    core_->record(*st, std::chrono::steady_clock::now() - t0);
    plan.feed({});
  }
  return plan.results();
}

std::vector<std::shared_ptr<void>> Session::query_key(const orm::EntityOps& ops, std::span<const Value> key) {
  autoflush();
  auto plan = core_->key_plan(ops, key);
  run(plan, orm::StatementRole::read);
  return plan.results();
}

void Session::autoflush() {
  if (options_.autoflush && !options_.read_only) flush();
}

void Session::flush() {
  if (options_.read_only || core_->tracked().empty()) return;  // nothing tracked, nothing to plan
  auto plan = core_->flush_plan();
  run(plan, orm::StatementRole::write);
}

void Session::commit() {
  if (options_.read_only) {
    rollback();
    return;
  }
  flush();
  if (conn_) conn_->commit();
  committed_to_router();
  transaction_ended();
  core_->after_commit();
}

void Session::rollback() {
  if (conn_) conn_->rollback();
  transaction_ended();
  core_->after_rollback();
}

void Session::close() { close_impl(true); }

void Session::close_impl(bool may_throw) {
  std::exception_ptr discarding;
  try {
    core_->report_close_discarding(may_throw);
  } catch (...) {
    discarding = std::current_exception();  // thrown once the session is closed
  }
  if (conn_) {
    conn_->rollback();
    conn_->close();
    conn_.reset();
  }
  if (reader_conn_) {
    reader_conn_->rollback();
    reader_conn_->close();
    reader_conn_.reset();
  }
  if (router_) router_->transaction_ended();
  core_->close();
  if (discarding) std::rethrow_exception(discarding);
}

SessionTransaction Session::begin() {
  if (conn_ && conn_->in_transaction())
    throw UsageError("begin(): a transaction is already open in this session; use begin_nested() for a savepoint");
  Transaction tx = connection().begin();
  return SessionTransaction(this, std::move(tx), false, core_->savepoint_mark());
}

SessionTransaction Session::begin_nested() {
  flush();
  Transaction tx = connection().begin_nested();
  return SessionTransaction(this, std::move(tx), true, core_->savepoint_mark());
}

SessionTransaction::SessionTransaction(SessionTransaction&& o) noexcept
    : session_(o.session_), tx_(std::move(o.tx_)), nested_(o.nested_), mark_(o.mark_), active_(o.active_) {
  o.active_ = false;
}

SessionTransaction::~SessionTransaction() {
  if (!active_) return;
  try {
    rollback();
  } catch (...) {
  }
}

void SessionTransaction::commit() {
  if (!active_) throw UsageError("commit(): this session transaction is no longer active");
  if (session_->options_.read_only) {
    active_ = false;
    tx_->rollback();
    session_->transaction_ended();
    session_->core_->after_rollback();
    return;
  }
  session_->flush();  // a failure leaves the transaction active: roll it back
  active_ = false;
  tx_->commit();
  tx_.reset();  // done with; the commit probe may replace the session's connection (MariaDB)
  if (!nested_) session_->committed_to_router();
  if (!nested_) session_->transaction_ended();
  if (!nested_) session_->core_->after_commit();
}

void SessionTransaction::rollback() {
  if (!active_) return;
  active_ = false;
  tx_->rollback();
  if (!nested_) session_->transaction_ended();
  if (nested_) session_->core_->after_savepoint_rollback(mark_);
  else session_->core_->after_rollback();
}

}  // namespace corm
