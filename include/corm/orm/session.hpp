#pragma once
// corm::Session: the synchronous front of the ORM — identity map, unit of work, loaders and
// transactions over one Connection (checked out on first use). It only drives the SessionCore's
// plans; AsyncSession drives the same plans with co_await, so both behave the same.
//
//   corm::Session s(engine);
//   auto authors = s.scalars(corm::select<Author>(), corm::selectinload(&Author::books));  // 2 queries
//   authors[0]->name = "K.";          // plain assignment is tracked
//   s.commit();                        // UPDATE "authors" SET "name" = $1 WHERE "id" = $2
//
// Not thread-safe: one session per thread / request. Objects are std::shared_ptr<T> shared with
// the identity map, one per (model, primary key).

#include <memory>
#include <optional>
#include <source_location>
#include <vector>

#include "corm/engine/engine.hpp"
#include "corm/orm/errors.hpp"
#include "corm/orm/load_option.hpp"
#include "corm/orm/detail/session_core.hpp"
#include "corm/orm/session_transaction.hpp"
#include "corm/orm/statement_router.hpp"
#include "corm/sql/statement/select.hpp"

namespace corm {

namespace detail {
struct SessionAccess;
}  // namespace detail

/// A unit of work over a synchronous Connection (see the header comment).
class Session {
 public:
  /// A session on `engine`. Its connections are named in the pool's diagnostics by
  /// `options.label`, else by the file:line that created the session (leave `where` defaulted).
  explicit Session(Engine engine, SessionOptions options = {},
                   std::source_location where = std::source_location::current());
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  /// Rolls back anything uncommitted and returns the connection.
  ~Session();

  /// The SQL dialect of the session's engine, e.g. to pick a backend-specific statement.
  Dialect dialect() const noexcept { return engine_.dialect(); }

  /// Tracks a new object (INSERTed at the next flush), cascading to loaded related objects.
  template <Mapped T>
  void add(std::shared_ptr<T> obj) { core_->add(orm::entity_ops<T>(), std::move(obj)); }
  /// Tracks each object of `objs`, as add() does.
  template <Mapped T>
  void add_all(const std::vector<std::shared_ptr<T>>& objs) {
    for (const auto& o : objs) add(o);
  }
  /// Marks `obj` for DELETE at the next flush; cascade-delete children are loaded and deleted.
  template <Mapped T>
  void delete_(const std::shared_ptr<T>& obj) {
    const auto& ops = orm::entity_ops<T>();
    auto erased = std::static_pointer_cast<void>(obj);
    while (orm::LoadPlan* p = core_->cascade_load_plan(ops, erased)) run(*p, orm::StatementRole::read_for_write);
    core_->mark_deleted(ops, erased);
  }
  /// The object with primary key `pk`: from the identity map without a query when present.
  /// A composite key goes column by column in key order (`get<BookTag>(book_id, tag_id)`) or as
  /// one std::tuple / std::pair / std::vector<Value>; the wrong number of values is a UsageError.
  template <Mapped T, class... K>
    requires(sizeof...(K) > 0)
  std::shared_ptr<T> get(const K&... pk) {
    const auto& ops = orm::entity_ops<T>();
    std::vector<Value> key = orm::key_values(pk...);
    orm::SessionCore::check_key(ops, key);
    if (auto hit = core_->lookup(ops, key)) return std::static_pointer_cast<T>(hit);
    auto objs = query_key(ops, key);
    return objs.empty() ? nullptr : std::static_pointer_cast<T>(objs.front());
  }
  /// Runs a select of entities through the identity map, with the loader options attached to it
  /// (`.options(...)`) and then those given here. With `.yield_per(n)` the rows come in slices
  /// of n (PostgreSQL: a server-side cursor), each turned into objects while the next is on its
  /// way.
  template <Mapped T, class... Opts>
  std::vector<std::shared_ptr<T>> scalars(const Select<T>& stmt, const Opts&... options) {
    std::vector<LoadOption> opts = orm::load_options_of(stmt, options...);
    auto objs = query(orm::entity_ops<T>(), stmt.core(), opts, stmt.rows_per_fetch());
    std::vector<std::shared_ptr<T>> out;
    out.reserve(objs.size());
    for (auto& o : objs) out.push_back(std::static_pointer_cast<T>(std::move(o)));  // no count traffic
    return out;
  }
  /// Runs any statement as-is (after autoflush); rows do not go through the identity map.
  template <Executable S>
  Result execute(const S& stmt) {
    autoflush();
    return run_compiled(Compiled(stmt.compile(engine_.dialect())), orm::statement_role(stmt));
  }
  /// Loads relationship `rel` of `obj` now (whatever its strategy).
  template <Mapped T, class H>
  void load(const std::shared_ptr<T>& obj, H T::*rel) {
    std::size_t i = detail::relationship_index_of<T>(rel);
    auto plan = core_->relationship_plan(obj.get(), i, false);
    run(plan);
  }
  /// Reloads `obj`'s columns from the database (discarding unflushed changes to them).
  template <Mapped T>
  void refresh(const std::shared_ptr<T>& obj) {
    auto plan = core_->refresh_plan(obj.get());
    run(plan);
  }
  /// Expires `obj`: the next query or get() that reaches it reloads it (unflushed changes dropped).
  template <Mapped T>
  void expire(const std::shared_ptr<T>& obj) { core_->expire(obj.get()); }
  /// Expires every object of the session.
  void expire_all() { core_->expire_all(); }
  /// Stops tracking `obj` (no SQL).
  template <Mapped T>
  void expunge(const std::shared_ptr<T>& obj) { core_->expunge(obj.get()); }

  /// Sends pending INSERT / UPDATE / DELETE statements (no commit).
  void flush();
  /// Flushes and commits (read-only sessions roll back instead).
  void commit();
  /// Rolls back; objects inserted in the transaction are expunged, the others expired.
  void rollback();
  /// Rolls back and detaches every object; the session can be used again afterwards. Flushed
  /// changes never committed are rolled back with a warning (UsageError with
  /// SessionOptions::strict_close, thrown once the session is closed).
  void close();
  /// Begins the transaction now: commit() on the handle, or it rolls back when destroyed.
  SessionTransaction begin();
  /// Flushes, then opens a SAVEPOINT: commit() releases it, rollback() undoes only its work.
  SessionTransaction begin_nested();

  /// Statements this session sent, by shape.
  const SessionStats& stats() const noexcept { return core_->stats(); }
  /// The connection (checked out on first use).
  Connection& connection();

  // --- read/write routing hook (corm/ext/routing.hpp) ---
  /// Gives the session a second engine: each statement whose role `router` sends to the reader
  /// runs on a connection of `reader` (checked out on first use, its transaction ended with the
  /// session's). Set before the first statement; UsageError afterwards.
  void set_router(Engine reader, std::shared_ptr<orm::StatementRouter> router);
  /// The router set_router() gave the session, or nullptr.
  orm::StatementRouter* router() const noexcept { return router_.get(); }
  /// The connection a statement of `role` runs on (the router's choice; connection() without one).
  Connection& connection_for(orm::StatementRole role);
  // --- end of the routing hook ---

 private:
  friend class SessionTransaction;
  friend struct detail::SessionAccess;
  void close_impl(bool may_throw);
  std::vector<std::shared_ptr<void>> query(const orm::EntityOps& ops, sql::detail::SelectCore core,
                                           const std::vector<LoadOption>& opts,
                                           std::size_t yield_per = 0);
  // get() on an identity-map miss (SessionCore::key_plan).
  std::vector<std::shared_ptr<void>> query_key(const orm::EntityOps& ops, std::span<const Value> key);
  void autoflush();
  Result run_compiled(Compiled c, orm::StatementRole role = orm::StatementRole::write);
  std::vector<Result> run_step(const orm::Step& step, orm::StatementRole role = orm::StatementRole::read);
  Connection& connection_to_read(orm::StatementRole role);
  template <class Plan>
  void run(Plan& plan, orm::StatementRole role = orm::StatementRole::read) {
    while (const orm::Step* st = plan.next()) plan.feed(run_step(*st, role));
  }
  void transaction_ended();  // routing hook: ends the reader's transaction, tells the router
  void committed_to_router();  // routing hook: runs the router's commit probe, if any
  bool reader_caught_up(const orm::RouterProbe& probe);  // routing hook: runs a reader probe

  Engine engine_;
  SessionOptions options_;
  std::source_location where_;  // where the session was created: its connections' holder
  std::optional<Connection> conn_;
  std::shared_ptr<orm::SessionCore> core_;
  // routing hook (set_router)
  std::optional<Engine> reader_;
  std::optional<Connection> reader_conn_;
  std::shared_ptr<orm::StatementRouter> router_;
};

}  // namespace corm
