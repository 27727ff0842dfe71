#pragma once
// Options for Select::with_for_update: corm::for_share, corm::nowait, corm::skip_locked,
// corm::of<T>(). PostgreSQL renders `FOR UPDATE | FOR SHARE [OF ...] [NOWAIT | SKIP LOCKED]`,
// MySQL `FOR UPDATE | LOCK IN SHARE MODE [NOWAIT | SKIP LOCKED]`; SQLite renders nothing — a
// SQLite write transaction already locks the whole database file.

#include <string_view>
#include <vector>

#include "corm/sql/expression/column_expr.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"

namespace corm {

/// A shared row lock (SQLAlchemy's `with_for_update(read=True)`): other transactions may read
/// and share-lock the rows but not change them until this one ends. `FOR SHARE` on PostgreSQL,
/// `LOCK IN SHARE MODE` on MySQL and MariaDB.
struct ForShareOption {};
/// with_for_update() option: a shared lock (see ForShareOption).
inline constexpr ForShareOption for_share{};
/// FOR UPDATE NOWAIT: fail at once (LockNotAvailable, 55P03) instead of waiting for a lock.
struct NowaitOption {};
/// with_for_update() option: NOWAIT.
inline constexpr NowaitOption nowait{};
/// FOR UPDATE SKIP LOCKED: skip rows another transaction holds (job queues).
struct SkipLockedOption {};
/// with_for_update() option: SKIP LOCKED.
inline constexpr SkipLockedOption skip_locked{};
/// `FOR UPDATE OF tables`: lock only these tables' rows in a join.
struct OfOption {
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  std::vector<sql::detail::FromItem> tables;
  /// @endcond
};
/// The FOR UPDATE OF option for these tables, or for one alias: `with_for_update(corm::of<Book>())`.
/// The MySQL dialect writes no OF (MariaDB has none), so there every table of the join is locked.
///@{
template <Mapped... Ts>
OfOption of() {
  return OfOption{{sql::detail::FromItem{&table_info<Ts>(), {}, nullptr}...}};
}
template <Mapped T>
OfOption of(const Alias<T>& a) {
  return OfOption{{sql::detail::FromItem{&a.table(), a.name(), nullptr}}};
}
///@}

namespace detail {
inline void apply_for_update(sql::detail::ForUpdate& f, ForShareOption) { f.share = true; }
inline void apply_for_update(sql::detail::ForUpdate& f, NowaitOption) { f.nowait = true; }
inline void apply_for_update(sql::detail::ForUpdate& f, SkipLockedOption) { f.skip_locked = true; }
inline void apply_for_update(sql::detail::ForUpdate& f, const OfOption& o) {
  f.of.insert(f.of.end(), o.tables.begin(), o.tables.end());
}
}  // namespace detail

}  // namespace corm
