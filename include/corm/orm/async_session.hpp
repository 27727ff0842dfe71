#pragma once
// corm::AsyncSession: the coroutine front of the ORM. The same SessionCore plans as Session,
// driven with co_await over one AsyncConnection (checked out on first use). Differences, on
// purpose: reading an unloaded lazy relationship throws LazyLoadError (a load there would be
// hidden I/O) — eager-load it or `co_await session.load(obj, &Author::books)`; same-shaped
// INSERTs of a flush and the chunks of a selectin load go as one execute_many batch
// (PostgreSQL pipeline mode).
//
// Lifetimes across co_await: arguments are copied into the coroutine frame before the first
// suspension where that matters (statements by value). Use one session from one coroutine at a
// time: a second coroutine using it meanwhile (on any thread) gets UsageError. Cancellation and
// errors: as AsyncConnection (the transaction must then be rolled back).

#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <source_location>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "corm/asyncio/async_engine.hpp"
#include "corm/orm/errors.hpp"
#include "corm/orm/load_option.hpp"
#include "corm/orm/detail/session_core.hpp"
#include "corm/orm/statement_router.hpp"
#include "corm/sql/statement/select.hpp"

namespace corm {

class AsyncSession;
namespace detail {
struct SessionAccess;
}  // namespace detail

/// What AsyncSession::begin() / begin_nested() return. A destructor cannot co_await: one
/// destroyed while active schedules the rollback on the connection (its next use or close runs
/// it) and updates the session's objects at once. Move-only.
class AsyncSessionTransaction {
 public:
  /// Takes over `o`'s transaction; `o` is left inactive.
  AsyncSessionTransaction(AsyncSessionTransaction&& o) noexcept;
  AsyncSessionTransaction& operator=(AsyncSessionTransaction&&) = delete;
  ~AsyncSessionTransaction();
  /// Flushes, then commits / releases the savepoint.
  boost::asio::awaitable<void> commit();
  /// Rolls back (the savepoint's work only, for a nested one).
  boost::asio::awaitable<void> rollback();
  /// True until commit() or rollback() ends it (a commit whose flush failed leaves it active, to be
  /// rolled back).
  bool is_active() const noexcept { return active_; }

 private:
  friend class AsyncSession;
  AsyncSessionTransaction(AsyncSession* s, AsyncTransaction tx, bool nested, std::uint64_t mark)
      : session_(s), tx_(std::move(tx)), nested_(nested), mark_(mark) {}
  AsyncSession* session_;
  std::optional<AsyncTransaction> tx_;
  bool nested_;
  std::uint64_t mark_;
  bool active_ = true;
};

/// A unit of work for coroutines (see the header comment).
class AsyncSession {
 public:
  /// A session on `engine`. Its connections are named in the pool's diagnostics by
  /// `options.label`, else by the file:line that created the session (leave `where` defaulted).
  explicit AsyncSession(AsyncEngine engine, SessionOptions options = {},
                        std::source_location where = std::source_location::current());
  AsyncSession(const AsyncSession&) = delete;
  AsyncSession& operator=(const AsyncSession&) = delete;
  /// Detaches the objects; the connection (if any) rolls back and returns to the pool. Prefer
  /// `co_await close()`.
  ~AsyncSession();

  /// The SQL dialect of the session's engine, e.g. to pick a backend-specific statement.
  Dialect dialect() const noexcept { return engine_.dialect(); }

  /// Tracks a new object (INSERTed at the next flush), cascading to loaded related objects.
  template <Mapped T>
  void add(std::shared_ptr<T> obj) {
    Use use(*this);
    core_->add(orm::entity_ops<T>(), std::move(obj));
  }
  /// Tracks each object of `objs`, as add() does.
  template <Mapped T>
  void add_all(const std::vector<std::shared_ptr<T>>& objs) {
    Use use(*this);
    for (const auto& o : objs) core_->add(orm::entity_ops<T>(), o);
  }
  /// Marks `obj` for DELETE; cascade-delete children are loaded (co_await) and deleted.
  template <Mapped T>
  boost::asio::awaitable<void> delete_(std::shared_ptr<T> obj) {
    Use use(*this);
    const auto& ops = orm::entity_ops<T>();
    auto erased = std::static_pointer_cast<void>(obj);
    while (orm::LoadPlan* p = core_->cascade_load_plan(ops, erased))
      co_await run_load(*p, orm::StatementRole::read_for_write);
    core_->mark_deleted(ops, erased);
  }
  /// The object with primary key `pk`; no query when the identity map has it. A composite key
  /// goes column by column in key order (`co_await s.get<BookTag>(book_id, tag_id)`) or as one
  /// std::tuple / std::pair / std::vector<Value>.
  template <Mapped T, class... K>
    requires(sizeof...(K) > 0)
  boost::asio::awaitable<std::shared_ptr<T>> get(K... pk) {
    Use use(*this);
    const auto& ops = orm::entity_ops<T>();
    std::vector<Value> key = orm::key_values(pk...);
    orm::SessionCore::check_key(ops, key);
    if (auto hit = core_->lookup(ops, key)) co_return std::static_pointer_cast<T>(hit);
    auto objs = co_await query_key(ops, std::move(key));
    co_return objs.empty() ? nullptr : std::static_pointer_cast<T>(objs.front());
  }
  /// Runs a select of entities through the identity map, with the loader options attached to it
  /// (`.options(...)`) and then those given here. With `.yield_per(n)` the rows come in slices
  /// of n (PostgreSQL: a server-side cursor), each turned into objects while the next is on its
  /// way; the session then holds its own connection, as after a write.
  template <Mapped T, class... Opts>
  boost::asio::awaitable<std::vector<std::shared_ptr<T>>> scalars(Select<T> stmt, Opts... options) {
    Use use(*this);
    std::vector<LoadOption> opts = orm::load_options_of(stmt, options...);
    auto objs = co_await query(orm::entity_ops<T>(), stmt.core(), std::move(opts), stmt.rows_per_fetch());
    std::vector<std::shared_ptr<T>> out;
    out.reserve(objs.size());
    for (auto& o : objs) out.push_back(std::static_pointer_cast<T>(std::move(o)));  // no count traffic
    co_return out;
  }
  /// Runs any statement as-is (after autoflush).
  template <Executable S>
  boost::asio::awaitable<Result> execute(S stmt) {
    Use use(*this);
    if (autoflush_due()) co_await flush_impl(false);
    Compiled compiled = stmt.compile(engine_.dialect());  // no checkout here: the role picks the connection
    co_return co_await run_one(std::move(compiled), orm::statement_role(stmt));
  }
  /// Loads relationship `rel` of `obj` now — the explicit form of a lazy load.
  template <Mapped T, class H>
  boost::asio::awaitable<void> load(std::shared_ptr<T> obj, H T::*rel) {
    Use use(*this);
    std::size_t i = detail::relationship_index_of<T>(rel);
    auto plan = core_->relationship_plan(obj.get(), i, false);
    co_await run_load(plan);
  }
  /// Reloads `obj`'s columns.
  template <Mapped T>
  boost::asio::awaitable<void> refresh(std::shared_ptr<T> obj) {
    Use use(*this);
    auto plan = core_->refresh_plan(obj.get());
    co_await run_load(plan);
  }
  /// Stops tracking `obj` (no SQL).
  template <Mapped T>
  void expunge(const std::shared_ptr<T>& obj) {
    Use use(*this);
    core_->expunge(obj.get());
  }
  /// Expires `obj`: the next query or get() that reaches it reloads it (unflushed changes dropped).
  template <Mapped T>
  void expire(const std::shared_ptr<T>& obj) {
    Use use(*this);
    core_->expire(obj.get());
  }
  /// Expires every object of the session.
  void expire_all() {
    Use use(*this);
    core_->expire_all();
  }

  /// Sends pending INSERT / UPDATE / DELETE statements (no commit).
  boost::asio::awaitable<void> flush();
  /// Flushes and commits (read-only sessions roll back instead).
  boost::asio::awaitable<void> commit();
  /// Rolls back; objects inserted in the transaction are expunged, the others expired.
  boost::asio::awaitable<void> rollback();
  /// Rolls back and detaches every object. Flushed changes never committed are rolled back
  /// with a warning (UsageError with SessionOptions::strict_close, thrown once closed).
  boost::asio::awaitable<void> close();
  /// Begins the transaction now: `co_await commit()` on the handle, or it rolls back when
  /// destroyed. UsageError when a transaction is already open (use begin_nested()).
  boost::asio::awaitable<AsyncSessionTransaction> begin();
  /// Flushes, then opens a SAVEPOINT: commit() releases it, rollback() undoes only its work.
  boost::asio::awaitable<AsyncSessionTransaction> begin_nested();

  /// Statements this session sent, by shape.
  const SessionStats& stats() const noexcept { return core_->stats(); }
  /// The connection, checked out on first use.
  boost::asio::awaitable<AsyncConnection*> connection();

  // --- read/write routing hook (corm/ext/routing.hpp) ---
  /// Gives the session a second engine: each statement whose role `router` sends to the reader
  /// runs on a connection of `reader` (checked out on first use, its transaction ended with the
  /// session's). Set before the first statement; UsageError afterwards.
  void set_router(AsyncEngine reader, std::shared_ptr<orm::StatementRouter> router);
  /// The router set_router() gave the session, or nullptr.
  orm::StatementRouter* router() const noexcept { return router_.get(); }
  /// The connection a statement of `role` runs on (the router's choice; connection() without one).
  boost::asio::awaitable<AsyncConnection*> connection_for(orm::StatementRole role);
  // --- end of the routing hook ---

 private:
  friend class AsyncSessionTransaction;
  friend struct detail::SessionAccess;
  // Held for the whole of every operation: a second coroutine using the session meanwhile gets
  // UsageError instead of racing on the identity map and the connection. A compare-exchange,
  // so it holds when the two coroutines run on different threads of the io_context.
  class Use {
   public:
    explicit Use(AsyncSession& s);
    ~Use() { s_.busy_.store(false, std::memory_order_release); }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

   private:
    AsyncSession& s_;
  };
  // The public operations of the same names; take_use false: the caller holds Use already. The
  // public ones return these awaitables directly, so the guard costs no coroutine frame.
  // Called with an operation's exception: throws the refusal's UsageError instead when the
  // operation was cancelled after Use refused another coroutine (see refused_).
  void rethrow_refusal(std::exception_ptr e) const;
  boost::asio::awaitable<void> flush_impl(bool take_use);
  boost::asio::awaitable<void> rollback_impl(bool take_use);
  boost::asio::awaitable<AsyncConnection*> connection_impl(bool take_use);
  boost::asio::awaitable<AsyncConnection*> connection_for_impl(orm::StatementRole role, bool take_use);
  boost::asio::awaitable<std::vector<std::shared_ptr<void>>> query(const orm::EntityOps& ops,
                                                                   sql::detail::SelectCore core,
                                                                   std::vector<LoadOption> opts,
                                                                   std::size_t yield_per = 0);
  // get() on an identity-map miss (SessionCore::key_plan).
  boost::asio::awaitable<std::vector<std::shared_ptr<void>>> query_key(const orm::EntityOps& ops, std::vector<Value> key);
  // Checked before co_await flush(), so a session with nothing to flush spends no coroutine.
  bool autoflush_due() const noexcept;
  boost::asio::awaitable<Result> run_one(Compiled c, orm::StatementRole role = orm::StatementRole::write);
  boost::asio::awaitable<std::vector<Result>> run_step(const orm::Step& step,
                                                       orm::StatementRole role = orm::StatementRole::read);
  boost::asio::awaitable<void> run_load(orm::LoadPlan& plan, orm::StatementRole role = orm::StatementRole::read);
  // The main query of `plan` read in slices of `yield_per` rows (Select::yield_per).
  boost::asio::awaitable<void> run_sliced(const orm::Step& step, orm::StatementRole role, std::size_t yield_per,
                                          orm::LoadPlan& plan);
  bool needs_read_only_mark(const AsyncConnection& conn) const;
  boost::asio::awaitable<void> mark_read_only(AsyncConnection& conn);
  bool reads_pipelined(const orm::Step& step, orm::StatementRole role) const;
  boost::asio::awaitable<void> transaction_ended();  // routing hook: ends the reader's transaction
  boost::asio::awaitable<void> committed_to_router();  // routing hook: runs the router's commit probe
  boost::asio::awaitable<bool> reader_caught_up(Compiled probe);  // routing hook: a reader probe

  AsyncEngine engine_;
  SessionOptions options_;
  std::source_location where_;  // where the session was created: its connections' holder
  std::optional<AsyncConnection> conn_;
  std::shared_ptr<orm::SessionCore> core_;
  std::atomic<bool> busy_{false};  // see Use
  // Set when Use refused a coroutine during the current operation: the operation's own
  // cancellation then surfaces as the same UsageError (rethrow_refusal).
  std::atomic<bool> refused_{false};
  // routing hook (set_router)
  std::optional<AsyncEngine> reader_;
  std::optional<AsyncConnection> reader_conn_;
  std::shared_ptr<orm::StatementRouter> router_;
};

}  // namespace corm
