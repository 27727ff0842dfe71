#pragma once
// InstanceState: what the session knows about one object it tracks — where it is in its life
// (pending, persistent, deleted), the column values last loaded from or written to the
// database (the snapshot dirty checking compares with), and how each relationship is loaded.

#include <cstdint>
#include <memory>
#include <memory_resource>
#include <optional>
#include <span>
#include <vector>

#include "corm/core/result.hpp"
#include "corm/core/value.hpp"
#include "corm/orm/detail/entity_ops.hpp"
#include "corm/orm/detail/identity_key.hpp"

namespace corm::orm {

/// Where an object is in its life within a session (SQLAlchemy's object states).
enum class ObjectStatus : std::uint8_t {
  pending,     ///< add()ed, not yet INSERTed.
  persistent,  ///< Has a row in the database (inserted by this session or loaded).
  deleted,     ///< delete()d, DELETE not yet flushed.
  detached,    ///< No longer tracked (expunged, deleted and flushed, session closed).
};

/// The session's record of one tracked object.
///
/// Kept small (168 bytes): a load makes one per row, and what a read-only load never uses — loader
/// strategies other than the mapping's, recorded collections, decoded snapshot values — lives
/// in a separate block allocated from the session's pool on first use. At 264 bytes the states
/// of 100,000 loaded rows outgrew the StatePool's chunk cache, and the rest was faulted in afresh
/// for every load.
struct InstanceState : std::enable_shared_from_this<InstanceState> {
  /// A state whose extra block uses the default memory resource (tests, tools).
  InstanceState() = default;
  /// A state whose extra block (snapshot values, recorded collections) is allocated from
  /// `pool` (the session's StatePool).
  explicit InstanceState(std::pmr::memory_resource* pool) : pool_(pool) {}
  InstanceState(const InstanceState&) = delete;
  InstanceState& operator=(const InstanceState&) = delete;
  ~InstanceState();

  /// The items of one relationship as last loaded / flushed.
  using Collection = std::pmr::vector<std::shared_ptr<void>>;

  const EntityOps* ops = nullptr;
  std::shared_ptr<void> obj;
  /// Identity once the primary key is known.
  IdentityKey key;
  /// Order of add()/load, so flushes are deterministic and savepoint rollbacks know what
  /// appeared after the savepoint.
  std::uint64_t seq = 0;
  /// seq when its INSERT was flushed (a rollback past it expunges the object).
  std::uint64_t inserted_at = 0;
  /// seq of the last UPDATE/DELETE flushed for it (a rollback past it expires the object).
  std::uint64_t written_at = 0;
  /// The last load (SessionCore::next_load_mark) that returned this object: a load that meets
  /// it twice (joined rows) keeps it once, without a set of the objects seen.
  std::uint64_t load_mark = 0;
  ObjectStatus status = ObjectStatus::pending;
  /// True when the snapshot no longer reflects the database (commit with expire_on_commit,
  /// rollback): the next query that returns the row, or refresh(), reloads the object.
  bool expired = false;
  bool has_key = false;
  /// Held by the session after close() because the user still references the object.
  bool retained = false;

  /// The loader strategy of relationship `rel` for an unloaded read: the one the query that
  /// loaded it set, else the mapping's default.
  LoaderStrategy strategy(std::size_t rel) const noexcept;
  /// Sets relationship `rel`'s loader strategy (the others keep theirs).
  void set_strategy(std::size_t rel, LoaderStrategy s);
  /// Relationship `rel`'s items as last loaded / flushed (what a flush compares holders with:
  /// foreign keys to set or clear, delete-orphan); empty when none were recorded.
  const Collection& collection(std::size_t rel) const noexcept;
  /// Records `items` as relationship `rel`'s items as loaded / flushed.
  void record_collection(std::size_t rel, std::span<const std::shared_ptr<void>> items);
  /// Forgets every recorded collection (they hold references to other objects).
  void clear_collections() noexcept;

  /// The object's column values now, in column order (what a flush compares with the snapshot).
  std::vector<Value> current_values() const;
  /// Column values as last loaded / flushed, in column order (empty while pending): dirty means
  /// different from these. After a load they are decoded from the row on first use.
  const std::pmr::vector<Value>& snapshot() const;
  /// Records the object's column values now as the snapshot.
  void take_snapshot();
  /// Records the row the object was just loaded from (its columns from `first` on) as the
  /// snapshot, to decode when snapshot() is first asked: most loaded objects are never flushed,
  /// and a Value per column of every loaded object was 8 % of the instructions of an eager load of 10,000 books. A result that
  /// is not ResultSet::retainable() is not kept: the values are copied from the object at once.
  void snapshot_from(const Row& row, std::size_t first);
  /// The snapshot to fill in place (a flushed INSERT), all columns null at first.
  std::pmr::vector<Value>& reset_snapshot();
  /// True when the object's column values differ from the snapshot.
  bool differs_from_snapshot() const;

  void* ptr() const noexcept { return obj.get(); }
  const TableInfo& table() const noexcept { return *ops->info; }

 private:
  struct Extra;
  Extra& extra() const;

  std::uint32_t snapshot_first_ = 0;  // first: it fills the padding after the flags above
  std::pmr::memory_resource* pool_ = std::pmr::get_default_resource();
  mutable Extra* extra_ = nullptr;  // from pool_, on first use
  // The loaded row the snapshot is still to be decoded from (null when there is none). It keeps
  // its result alive, which is smaller than the Values would be (binary cells, no per-value
  // allocation).
  mutable std::shared_ptr<const ResultSet> snapshot_rows_;
  std::size_t snapshot_row_ = 0;
};

}  // namespace corm::orm
