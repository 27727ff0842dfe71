#include "corm/orm/async_session.hpp"

#include "orm/router_probe.hpp"

#include <chrono>
#include <exception>
#include <functional>
#include <optional>

namespace corm {

namespace asio = boost::asio;

namespace {
constexpr const char* two_coroutines =
    "AsyncSession used by two coroutines at once (another operation of this session is still running); give "
    "each coroutine its own session";
}  // namespace

AsyncSession::Use::Use(AsyncSession& s) : s_(s) {
  bool idle = false;
  if (!s_.busy_.compare_exchange_strong(idle, true, std::memory_order_acquire, std::memory_order_relaxed)) {
    s_.refused_.store(true, std::memory_order_release);
    throw UsageError(two_coroutines);
  }
  s_.refused_.store(false, std::memory_order_relaxed);
}

// Asio's `a() && b()` cancels the other operand once one fails and reports the LEFT operand's
// exception first. When b is refused here, a is cancelled in the middle of its statement, so
// without this a's operation_aborted would stand first and the refusal would hide behind it.
void AsyncSession::rethrow_refusal(std::exception_ptr e) const {
  if (!refused_.load(std::memory_order_acquire)) return;
  try {
    std::rethrow_exception(std::move(e));
  } catch (const boost::system::system_error& x) {
    if (x.code() != asio::error::operation_aborted) return;
  } catch (const QueryCanceled&) {
  } catch (const asio::multiple_exceptions& m) {
    // The PostgreSQL front waits for a statement and its cancellation together: look inside.
    return rethrow_refusal(m.first_exception());
  } catch (...) {
    return;
  }
  throw UsageError(two_coroutines);
}

AsyncSession::AsyncSession(AsyncEngine engine, SessionOptions options, std::source_location where)
    : engine_(std::move(engine)), options_(options), where_(where),
      core_(std::make_shared<orm::SessionCore>(engine_.dialect(), options, engine_.options().log)) {
  // No lazy runner: an unloaded lazy relationship raises LazyLoadError here.
}

AsyncSession::~AsyncSession() {
  try {
    core_->report_close_discarding(false);  // the connection's destructor rolls back
  } catch (...) {
  }
  core_->close();
}

asio::awaitable<AsyncConnection*> AsyncSession::connection() { return connection_impl(true); }

asio::awaitable<AsyncConnection*> AsyncSession::connection_impl(bool take_use) {
  try {
  std::optional<Use> use;
  if (take_use) use.emplace(*this);
  if (!conn_) {
    std::string label(options_.label);
    AsyncConnection c = co_await engine_.connect(std::move(label), where_);
    conn_.emplace(std::move(c));
    if (options_.isolation_level) conn_->set_isolation_level(*options_.isolation_level);
  }
  co_return &*conn_;
  } catch (...) {
    rethrow_refusal(std::current_exception());
    throw;
  }
}

asio::awaitable<Result> AsyncSession::run_one(Compiled c, orm::StatementRole role) {
  orm::Step st;
  st.statements.push_back(std::move(c));
  std::vector<Result> rs = co_await run_step(st, role);
  co_return std::move(rs.front());
}

// --- read/write routing hook ---
void AsyncSession::set_router(AsyncEngine reader, std::shared_ptr<orm::StatementRouter> router) {
  Use use(*this);
  if (conn_ || reader_conn_) throw UsageError("set_router(): the session has already run statements; set it first");
  if (reader.dialect() != engine_.dialect())
    throw UsageError("set_router(): the reader engine's dialect differs from the session's engine");
  reader_.emplace(std::move(reader));
  router_ = std::move(router);
}

asio::awaitable<AsyncConnection*> AsyncSession::connection_for(orm::StatementRole role) { return connection_for_impl(role, true); }

asio::awaitable<AsyncConnection*> AsyncSession::connection_for_impl(orm::StatementRole role, bool take_use) {
  std::optional<Use> use;
  if (take_use) use.emplace(*this);
  if (!router_ || !router_->to_reader(role)) co_return co_await connection_impl(false);
  if (!reader_conn_) {
    std::string label(options_.label);
    AsyncConnection c = co_await reader_->connect(std::move(label), where_);
    reader_conn_.emplace(std::move(c));
    if (options_.isolation_level) reader_conn_->set_isolation_level(*options_.isolation_level);
  }
  if (std::optional<orm::RouterProbe> probe = router_->reader_probe()) {
    Compiled c = orm::detail::probe_statement(*probe);
    probe.reset();
    const bool ready = co_await reader_caught_up(std::move(c));
    if (!ready) co_return co_await connection_impl(false);
  }
  co_return &*reader_conn_;
}

asio::awaitable<bool> AsyncSession::reader_caught_up(Compiled probe) {
  // The read must see the replica as the probe found it: a snapshot taken earlier would not.
  if (reader_conn_->in_transaction()) co_await reader_conn_->rollback();
  Result r = co_await reader_conn_->execute(std::move(probe));
  const bool ready = router_->reader_ready(orm::detail::probe_answer(r));
  if (ready && orm::detail::probe_fixed_snapshot(*reader_conn_)) co_await reader_conn_->rollback();
  co_return ready;
}

asio::awaitable<void> AsyncSession::committed_to_router() {
  if (!router_ || !conn_) co_return;
  std::optional<orm::RouterProbe> wanted = router_->commit_probe();
  if (!wanted) co_return;
  Compiled probe = orm::detail::probe_statement(*wanted);
  wanted.reset();
  const bool mysql = conn_->dialect() == Dialect::mysql;
  std::optional<std::string> answer;
  std::exception_ptr failed;
  try {
    // MariaDB: @@last_gtid belongs to this connection, so the probe runs here, under AUTOCOMMIT
    // (no START TRANSACTION / ROLLBACK round trips); the level cannot be set back to "the
    // engine's default", so the connection then goes back to the pool. PostgreSQL: a plain read
    // goes ahead of the BEGIN it autobegins, which stays queued and is dropped by the rollback.
    if (mysql) conn_->set_isolation_level(IsolationLevel::autocommit);
    Result r = co_await conn_->execute(std::move(probe));
    answer = orm::detail::probe_answer(r);
  } catch (const Error&) {
    failed = std::current_exception();
  }
  // The commit stands even when the probe failed; without its position the router keeps reads
  // on the writer (the safe side), which position_unknown() reports. Throwing here would pass
  // for a failed commit.
  if (mysql) {
    co_await conn_->close();
    conn_.reset();
  } else {
    co_await conn_->rollback();
  }
  if (failed) answer.reset();
  router_->committed(answer);
}

asio::awaitable<void> AsyncSession::transaction_ended() {
  if (router_) router_->transaction_ended();
  if (reader_conn_) co_await reader_conn_->rollback();  // it only read: end its snapshot with the session's
}
// --- end of the routing hook ---

// Before its first write a session holds no connection; its plain reads then share round trips
// with other coroutines' reads (AsyncEngine::execute_pipelined_read). Any setting that ties the
// session's reads to one connection or transaction keeps them on its own connection.
bool AsyncSession::reads_pipelined(const orm::Step& step, orm::StatementRole role) const {
  return step.statements.size() == 1 && role == orm::StatementRole::read && step.statements.front().plain_read &&
         !conn_ && !reader_conn_ && !router_ && !options_.read_only && !options_.isolation_level &&
         engine_.pipelines_reads();
}

asio::awaitable<std::vector<Result>> AsyncSession::run_step(const orm::Step& step, orm::StatementRole role) {
  try {
  if (reads_pipelined(step, role)) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<Result> out;
    out.push_back(co_await engine_.execute_pipelined_read(step.statements.front()));
    core_->record(step, std::chrono::steady_clock::now() - t0);
    co_return out;
  }
  AsyncConnection& conn = *co_await connection_for_impl(role, false);
  if (needs_read_only_mark(conn)) co_await mark_read_only(conn);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Result> out;
  if (step.statements.size() == 1) {
    Compiled c = step.statements.front();
    Result r = co_await conn.execute(std::move(c));
    out.push_back(std::move(r));
  } else {
    // Same SQL for every statement (a Step's contract): one pipelined batch.
    std::vector<std::vector<Value>> rows;
    rows.reserve(step.statements.size());
    for (const Compiled& c : step.statements) rows.push_back(c.params);
    std::string sql = step.sql();
    out = co_await conn.execute_many(std::move(sql), std::move(rows));
  }
  core_->record(step, std::chrono::steady_clock::now() - t0);
  co_return out;
  } catch (...) {
    rethrow_refusal(std::current_exception());
    throw;
  }
}

// A read-only session marks its transaction before the first statement (SET TRANSACTION READ
// ONLY autobegins it), so the server refuses writes too. A test, not a coroutine: the statement
// path spends no frame on it.
bool AsyncSession::needs_read_only_mark(const AsyncConnection& conn) const {
  return options_.read_only && conn.dialect() != Dialect::sqlite && !conn.in_transaction() &&
         conn.isolation_level() != IsolationLevel::autocommit;
}

// MySQL takes READ ONLY only with START TRANSACTION, which the next statement's autobegin sends.
asio::awaitable<void> AsyncSession::mark_read_only(AsyncConnection& conn) {
  if (conn.dialect() == Dialect::mysql) {
    conn.set_next_transaction_read_only();
    co_return;
  }
  co_await conn.exec_driver_sql("SET TRANSACTION READ ONLY");
}

asio::awaitable<void> AsyncSession::run_sliced(const orm::Step& step, orm::StatementRole role, std::size_t yield_per,
                                               orm::LoadPlan& plan) {
  try {
  AsyncConnection& conn = *co_await connection_for_impl(role, false);
  if (needs_read_only_mark(conn)) co_await mark_read_only(conn);
  auto t0 = std::chrono::steady_clock::now();
  std::function<void(Result)> on_rows = [&plan](Result slice) { plan.feed_slice(slice); };
  Compiled c = step.statements.front();
  co_await conn.stream(std::move(c), yield_per, std::move(on_rows));
  core_->record(step, std::chrono::steady_clock::now() - t0);
  } catch (...) {
    rethrow_refusal(std::current_exception());
    throw;
  }
}

asio::awaitable<void> AsyncSession::run_load(orm::LoadPlan& plan, orm::StatementRole role) {
  while (const orm::Step* st = plan.next()) {
    std::vector<Result> rs = co_await run_step(*st, role);
    plan.feed(std::move(rs));
  }
}

asio::awaitable<std::vector<std::shared_ptr<void>>> AsyncSession::query(const orm::EntityOps& ops,
                                                                        sql::detail::SelectCore core,
                                                                        std::vector<LoadOption> opts,
                                                                        std::size_t yield_per) {
  if (autoflush_due()) co_await flush_impl(false);
  auto role = core.for_update.enabled ? orm::StatementRole::read_for_write : orm::StatementRole::read;
  auto plan = core_->query_plan(ops, std::move(core), opts, false);
  // run_load()'s loop, written out: a coroutine frame fewer for every query.
  while (const orm::Step* st = plan.next()) {
    if (const std::size_t slice = plan.rows_per_fetch(yield_per); slice > 0) {
      co_await run_sliced(*st, role, slice, plan);
      plan.feed({});
      continue;
    }
    std::vector<Result> rs = co_await run_step(*st, role);
    plan.feed(std::move(rs));
  }
  co_return plan.results();
}

asio::awaitable<std::vector<std::shared_ptr<void>>> AsyncSession::query_key(const orm::EntityOps& ops,
                                                                            std::vector<Value> key) {
  if (autoflush_due()) co_await flush_impl(false);
  auto plan = core_->key_plan(ops, key);
  while (const orm::Step* st = plan.next()) {  // run_load()'s loop, as in query()
    std::vector<Result> rs = co_await run_step(*st, orm::StatementRole::read);
    plan.feed(std::move(rs));
  }
  co_return plan.results();
}

bool AsyncSession::autoflush_due() const noexcept {
  return options_.autoflush && !options_.read_only && !core_->tracked().empty();
}

asio::awaitable<void> AsyncSession::flush() { return flush_impl(true); }

asio::awaitable<void> AsyncSession::flush_impl(bool take_use) {
  std::optional<Use> use;
  if (take_use) use.emplace(*this);
  if (options_.read_only || core_->tracked().empty()) co_return;  // nothing tracked, nothing to plan
  auto plan = core_->flush_plan();
  while (const orm::Step* st = plan.next()) {
    std::vector<Result> rs = co_await run_step(*st, orm::StatementRole::write);
    plan.feed(std::move(rs));
  }
}

asio::awaitable<void> AsyncSession::commit() {
  try {
  Use use(*this);
  if (options_.read_only) {
    co_await rollback_impl(false);
    co_return;
  }
  co_await flush_impl(false);
  if (conn_) co_await conn_->commit();
  co_await committed_to_router();
  co_await transaction_ended();
  core_->after_commit();
  } catch (...) {
    rethrow_refusal(std::current_exception());
    throw;
  }
}

asio::awaitable<void> AsyncSession::rollback() { return rollback_impl(true); }

asio::awaitable<void> AsyncSession::rollback_impl(bool take_use) {
  try {
  std::optional<Use> use;
  if (take_use) use.emplace(*this);
  if (conn_) co_await conn_->rollback();
  co_await transaction_ended();
  core_->after_rollback();
  } catch (...) {
    rethrow_refusal(std::current_exception());
    throw;
  }
}

asio::awaitable<void> AsyncSession::close() {
  try {
  Use use(*this);
  std::exception_ptr discarding;
  try {
    core_->report_close_discarding(true);
  } catch (...) {
    discarding = std::current_exception();  // thrown once the session is closed
  }
  if (conn_) {
    co_await conn_->close();
    conn_.reset();
  }
  if (reader_conn_) {
    co_await reader_conn_->close();
    reader_conn_.reset();
  }
  if (router_) router_->transaction_ended();
  core_->close();
  if (discarding) std::rethrow_exception(discarding);
  } catch (...) {
    rethrow_refusal(std::current_exception());
    throw;
  }
}

asio::awaitable<AsyncSessionTransaction> AsyncSession::begin() {
  try {
  Use use(*this);
  AsyncConnection& c = *co_await connection_impl(false);
  if (c.in_transaction())
    throw UsageError("begin(): a transaction is already open in this session; use begin_nested() for a savepoint");
  AsyncTransaction tx = co_await c.begin();
  co_return AsyncSessionTransaction(this, std::move(tx), false, core_->savepoint_mark());
  } catch (...) {
    rethrow_refusal(std::current_exception());
    throw;
  }
}

asio::awaitable<AsyncSessionTransaction> AsyncSession::begin_nested() {
  try {
  Use use(*this);
  co_await flush_impl(false);
  AsyncConnection& c = *co_await connection_impl(false);
  AsyncTransaction tx = co_await c.begin_nested();
  co_return AsyncSessionTransaction(this, std::move(tx), true, core_->savepoint_mark());
  } catch (...) {
    rethrow_refusal(std::current_exception());
    throw;
  }
}

AsyncSessionTransaction::AsyncSessionTransaction(AsyncSessionTransaction&& o) noexcept
    : session_(o.session_), tx_(std::move(o.tx_)), nested_(o.nested_), mark_(o.mark_), active_(o.active_) {
  o.active_ = false;
}

AsyncSessionTransaction::~AsyncSessionTransaction() {
  if (!active_) return;
  // The AsyncTransaction (destroyed with this) schedules the rollback on the connection; the
  // session's objects are updated now.
  if (nested_) session_->core_->after_savepoint_rollback(mark_);
  else session_->core_->after_rollback();
  if (!nested_ && session_->router_) session_->router_->transaction_ended();  // routing hook
}

asio::awaitable<void> AsyncSessionTransaction::commit() {
  AsyncSession::Use use(*session_);
  if (!active_) throw UsageError("commit(): this session transaction is no longer active");
  if (session_->options_.read_only) {
    active_ = false;
    co_await tx_->rollback();
    co_await session_->transaction_ended();
    session_->core_->after_rollback();
    co_return;
  }
  co_await session_->flush_impl(false);  // a failure leaves the transaction active: roll it back
  active_ = false;
  co_await tx_->commit();
  tx_.reset();  // done with; the commit probe may replace the session's connection (MariaDB)
  if (!nested_) co_await session_->committed_to_router();
  if (!nested_) co_await session_->transaction_ended();
  if (!nested_) session_->core_->after_commit();
}

asio::awaitable<void> AsyncSessionTransaction::rollback() {
  AsyncSession::Use use(*session_);
  if (!active_) co_return;
  active_ = false;
  co_await tx_->rollback();
  if (!nested_) co_await session_->transaction_ended();
  if (nested_) session_->core_->after_savepoint_rollback(mark_);
  else session_->core_->after_rollback();
}

}  // namespace corm
