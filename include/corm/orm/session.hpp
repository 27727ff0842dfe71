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
#include <vector>

#include "corm/engine/engine.hpp"
#include "corm/orm/errors.hpp"
#include "corm/orm/load_option.hpp"
#include "corm/orm/session_core.hpp"
#include "corm/orm/session_transaction.hpp"
#include "corm/sql/statement/select.hpp"

namespace corm {

/// A unit of work over a synchronous Connection (see the header comment).
class Session {
 public:
  explicit Session(Engine engine, SessionOptions options = {});
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  /// Rolls back anything uncommitted and returns the connection.
  ~Session();

  /// Tracks a new object (INSERTed at the next flush), cascading to loaded related objects.
  template <Mapped T>
  void add(std::shared_ptr<T> obj) { core_->add(orm::entity_ops<T>(), std::move(obj)); }
  template <Mapped T>
  void add_all(const std::vector<std::shared_ptr<T>>& objs) {
    for (const auto& o : objs) add(o);
  }
  /// Marks `obj` for DELETE at the next flush; cascade-delete children are loaded and deleted.
  template <Mapped T>
  void delete_(const std::shared_ptr<T>& obj) {
    const auto& ops = orm::entity_ops<T>();
    auto erased = std::static_pointer_cast<void>(obj);
    while (orm::LoadPlan* p = core_->cascade_load_plan(ops, erased)) run(*p);
    core_->mark_deleted(ops, erased);
  }
  /// The object with primary key `pk`: from the identity map without a query when present.
  template <Mapped T, class K>
  std::shared_ptr<T> get(const K& pk) {
    std::vector<Value> key{orm::key_value(pk)};
    if (auto hit = core_->lookup(orm::entity_ops<T>(), key)) return std::static_pointer_cast<T>(hit);
    const TableInfo& t = table_info<T>();
    if (t.primary_key.size() != 1) throw UsageError("get(): '" + t.name + "' has a composite key; use scalars()");
    sql::detail::SelectCore core = select<T>().core();
    core.where = sql::detail::make_binary(sql::detail::Op::eq, sql::detail::make_column(&t.columns[t.primary_key[0]]),
                                          sql::detail::make_bind(key[0]));
    auto objs = query(orm::entity_ops<T>(), std::move(core), {});
    return objs.empty() ? nullptr : std::static_pointer_cast<T>(objs.front());
  }
  /// Runs a select of entities through the identity map, with loader options.
  template <Mapped T, class... Opts>
  std::vector<std::shared_ptr<T>> scalars(const Select<T>& stmt, const Opts&... options) {
    std::vector<LoadOption> opts{LoadOption(options)...};
    auto objs = query(orm::entity_ops<T>(), stmt.core(), opts);
    std::vector<std::shared_ptr<T>> out;
    out.reserve(objs.size());
    for (auto& o : objs) out.push_back(std::static_pointer_cast<T>(o));
    return out;
  }
  /// Runs any statement as-is (after autoflush); rows do not go through the identity map.
  template <Executable S>
  Result execute(const S& stmt) {
    autoflush();
    return run_compiled(Compiled(stmt.compile(connection().dialect())));
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
  /// Rolls back and detaches every object; the session can be used again afterwards.
  void close();
  /// Begins the transaction now: commit() on the handle, or it rolls back when destroyed.
  SessionTransaction begin();
  /// Flushes, then opens a SAVEPOINT: commit() releases it, rollback() undoes only its work.
  SessionTransaction begin_nested();

  /// Statements this session sent, by shape.
  const SessionStats& stats() const noexcept { return core_->stats(); }
  /// The connection (checked out on first use).
  Connection& connection();
  /// The I/O-free core (tests, extensions).
  orm::SessionCore& core() noexcept { return *core_; }

 private:
  friend class SessionTransaction;
  std::vector<std::shared_ptr<void>> query(const orm::EntityOps& ops, sql::detail::SelectCore core,
                                           const std::vector<LoadOption>& opts);
  void autoflush();
  Result run_compiled(Compiled c);
  std::vector<Result> run_step(const orm::Step& step);
  template <class Plan>
  void run(Plan& plan) {
    while (const orm::Step* st = plan.next()) plan.feed(run_step(*st));
  }

  Engine engine_;
  SessionOptions options_;
  std::optional<Connection> conn_;
  std::shared_ptr<orm::SessionCore> core_;
};

}  // namespace corm
