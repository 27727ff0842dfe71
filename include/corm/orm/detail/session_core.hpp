#pragma once
// SessionCore: the synchronous, I/O-free heart shared by Session and AsyncSession — identity
// map, object states, cascades, transaction bookkeeping, statistics and the N+1 detector. It
// never executes anything: it hands out FlushPlans and LoadPlans and the fronts drive them.
// Unit tests drive it directly and feed hand-made results (no database).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/core/log.hpp"
#include "corm/orm/detail/flush_plan.hpp"
#include "corm/orm/detail/instance_state.hpp"
#include "corm/orm/detail/load_plan.hpp"
#include "corm/orm/session_options.hpp"
#include "corm/orm/session_stats.hpp"
#include "corm/orm/detail/state_pool.hpp"

namespace corm::orm {

struct SessionMaps;
class SessionHook;  // session_core.cpp: the relationship hook of tracked objects

/// The shared core of a session (see the header comment). Not thread-safe: a session is used by
/// one thread / coroutine at a time.
class SessionCore : public std::enable_shared_from_this<SessionCore> {
 public:
  /// Runs a lazy-load plan to completion; installed by the sync front only.
  using LazyRunner = std::function<void(LoadPlan&)>;

  SessionCore(Dialect dialect, SessionOptions options, LogSink log);
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;
  /// Frees the cycles of objects nothing outside the session refers to any more (see close()).
  ~SessionCore();

  Dialect dialect() const noexcept { return dialect_; }
  const SessionOptions& options() const noexcept { return options_; }

  /// Starts tracking `obj` as pending (or keeps it when tracked), cascading save-update through
  /// its loaded relationships. UsageError in a read-only session.
  InstanceState& add(const EntityOps& ops, std::shared_ptr<void> obj);
  /// The states whose unloaded relationships a delete of `obj` must load first (cascade delete).
  LoadPlan* cascade_load_plan(const EntityOps& ops, const std::shared_ptr<void>& obj);
  /// Marks `obj` (and its loaded cascade-delete children) deleted; pending objects are expunged.
  void mark_deleted(const EntityOps& ops, const std::shared_ptr<void>& obj);
  /// Marks `obj` (or every object) expired: its unflushed changes are ignored and the next query
  /// or get() that reaches it reloads it.
  void expire(const void* obj);
  void expire_all();
  /// Stops tracking `obj` (no SQL); its unloaded relationships then raise LazyLoadError.
  void expunge(const void* obj);
  /// The state of a tracked object, or nullptr.
  InstanceState* state_of(const void* obj) const;
  std::shared_ptr<InstanceState> shared_state_of(const void* obj) const;
  /// The object with this key when tracked, not expired and not deleted; else nullptr.
  std::shared_ptr<void> lookup(const EntityOps& ops, std::span<const Value> pk) const;
  /// UsageError unless `pk` has one value per primary-key column of `ops` (get()).
  static void check_key(const EntityOps& ops, std::span<const Value> pk);
  /// SELECT of the row of `ops` whose primary key is `pk` (get() on an identity-map miss).
  static sql::detail::SelectCore key_select(const EntityOps& ops, std::span<const Value> pk);
  /// The load of get() on an identity-map miss: key_select, compiled once per model and
  /// dialect and reused with each key as its parameters.
  LoadPlan key_plan(const EntityOps& ops, std::span<const Value> pk);
  /// True when a flush would send something (pending, deleted or changed objects).
  bool has_changes() const;

  /// The next flush (read-only sessions: UsageError).
  FlushPlan flush_plan() { return FlushPlan(*this); }
  /// A query of entities of `ops`, through the identity map.
  LoadPlan query_plan(const EntityOps& ops, sql::detail::SelectCore select, const std::vector<LoadOption>& options,
                      bool refresh) {
    return LoadPlan(*this, ops, std::move(select), options, refresh);
  }
  /// Loads relationship `rel` of tracked `obj` now (AsyncSession::load, refresh of a collection).
  LoadPlan relationship_plan(const void* obj, std::size_t rel, bool lazy);
  /// SELECT of `obj`'s row by primary key that overwrites it (refresh()).
  LoadPlan refresh_plan(const void* obj);

  /// Transaction bookkeeping: a commit (expire_on_commit honoured), a rollback (objects inserted
  /// in the transaction are expunged, the rest expired), and savepoints (mark / roll back to).
  void after_commit();
  void after_rollback();
  /// A flush sent statements (FlushPlan calls this): their changes are uncommitted until
  /// after_commit(); after_rollback() discards them.
  void note_flushed() noexcept { flushed_uncommitted_ = true; }
  /// What close() says about changes it is about to roll back: a warning through the log sink,
  /// or UsageError when `may_throw` and SessionOptions::strict_close. Nothing when there are
  /// none. Call before the rollback; it only reports.
  void report_close_discarding(bool may_throw);
  std::uint64_t savepoint_mark() const noexcept { return seq_; }
  void after_savepoint_rollback(std::uint64_t mark);
  /// Detaches everything. Objects that refer to each other through loaded relationships
  /// (author->books, book->author) form std::shared_ptr cycles; close() breaks the cycles of
  /// objects nothing outside the session refers to (their holders are reset), and the session's
  /// destruction does the same for the objects still referenced at close() and dropped since.
  /// Objects you still hold when the session is destroyed keep their loaded graph: reset a
  /// holder (reset_unloaded()) to free a cyclic graph you no longer need.
  void close();

  void set_lazy_runner(LazyRunner r) { lazy_runner_ = std::move(r); }
  /// Statistics and the N+1 detector: the fronts call this for each step they ran.
  void record(const Step& step, std::chrono::nanoseconds elapsed);
  const SessionStats& stats() const noexcept { return stats_; }
  SessionStats& stats() noexcept { return stats_; }

  // --- used by the plans ---
  /// Reads an entity from `row` starting at cell `first`; returns the tracked object for its
  /// key (new, or the existing one — overwritten when `refresh` or expired).
  std::shared_ptr<InstanceState> absorb(const EntityOps& ops, const Row& row, std::size_t first, bool refresh);
  void register_key(InstanceState& s);
  void forget(InstanceState& s);
  std::uint64_t next_seq() noexcept { return ++seq_; }
  /// A fresh mark for one load's de-duplication (InstanceState::load_mark).
  std::uint64_t next_load_mark() noexcept { return ++load_marks_; }
  /// The session's StatePool, for a plan's per-object bookkeeping: memory it reuses instead of
  /// regrowing the global heap on every load.
  std::pmr::memory_resource* pool() noexcept { return &pool_; }
  /// Makes room for `n` more tracked objects before a load absorbs them (no rehash mid-load).
  void reserve_more(std::size_t n);
  const std::vector<std::shared_ptr<InstanceState>>& tracked() const noexcept { return order_; }
  void compact();
  /// Called by the relationship hook on an unloaded read.
  void on_unloaded(InstanceState& s, std::size_t rel);
  /// Sets column `ordinal` of `obj` from a Value (foreign keys, version counters).
  static void set_column(const ColumnInfo& c, void* obj, const Value& v);
  /// Cell `col` of `row` as a Value (integer, real, text or NULL), for grouping by a key.
  static Value cell_value(const Row& row, std::size_t col);

 private:
  void install_hooks(const std::shared_ptr<InstanceState>& s);
  /// Moves a closed session's hooks for `table` (SessionMaps::spare_hooks) into hooks_, pointed
  /// at this session; false when there are none.
  bool take_spare_hooks(const TableInfo& table);
  /// At destruction: offers the hooks no object refers to any more to the next session.
  void stash_hooks();
  /// Puts the states tracked since the last call into the object → state map.
  void index_tracked() const;
  std::shared_ptr<InstanceState> track(const EntityOps& ops, std::shared_ptr<void> obj, ObjectStatus st);
  static void collect_cycles(const std::vector<std::shared_ptr<InstanceState>>& states);
  void collect_cascade(InstanceState& s, std::vector<std::shared_ptr<InstanceState>>& out,
                       std::unordered_set<const void*>& seen, std::vector<std::pair<std::shared_ptr<InstanceState>, std::size_t>>& unloaded);

  // First, so it is destroyed last: every state below is allocated from it.
  StatePool pool_;
  Dialect dialect_;
  SessionOptions options_;
  LogSink log_;
  std::unique_ptr<SessionMaps> maps_;  // object → state and identity key → state (session_maps.hpp)
  std::vector<std::shared_ptr<InstanceState>> order_;  // tracking order (compacted lazily)
  // How many of order_'s first states are in the object → state map. track() only appends to
  // order_; a lookup by object indexes the rest first. A load of 100,000 rows that is only read
  // never builds the map: its inserts were random probes into a table larger than the cache,
  // 40 % of track()'s time (bench W3).
  mutable std::size_t indexed_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t load_marks_ = 0;
  std::uint64_t tx_mark_ = 0;
  bool flushed_uncommitted_ = false;
  LazyRunner lazy_runner_;
  SessionStats stats_;
  std::unordered_set<std::string> warned_;
  std::unique_ptr<LoadPlan> cascade_plan_;
  std::vector<std::shared_ptr<InstanceState>> retained_;  // detached at close(), still referenced
  // The hooks installed on holders: one per (table, relationship) for the whole session, which
  // finds the object from the holder's address, rather than one allocation per object. A
  // table's hooks are adjacent, in relationship order.
  std::vector<std::pair<const TableInfo*, std::shared_ptr<SessionHook>>> hooks_;
};

}  // namespace corm::orm
