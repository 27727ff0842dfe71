#pragma once
// insert<T>(): INSERT from objects, from column = value pairs, one row or many; RETURNING;
// ON CONFLICT DO NOTHING / DO UPDATE (upsert, the same SQL on PostgreSQL and SQLite).
//
//   conn.execute(corm::insert<Book>().values(book).returning(corm::col(&Book::id)));
//   corm::insert<Book>().values(corm::set(&Book::isbn, isbn), corm::set(&Book::title, t))
//       .on_conflict(&Book::isbn).do_update(&Book::title);

#include <algorithm>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "corm/sql/compiled.hpp"
#include "corm/sql/statement/assignment.hpp"
#include "corm/sql/statement/returning.hpp"
#include "corm/sql/statement/detail/row_decoder.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"

namespace corm {

/// An INSERT into T's table. R is the RETURNING row type (void: none).
template <Mapped T, class R = void>
class Insert {
 public:
  /// The RETURNING row type (void when there is no RETURNING).
  using row_type = R;
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  explicit Insert(sql::detail::InsertCore core) : core_(std::move(core)) {}
  /// @endcond

  /// Adds one row from an object: every mapped column, except identity columns still holding
  /// their default value (0), which the database generates.
  ///@{
  Insert values(const T& obj) && {
    const TableInfo& t = table_info<T>();
    std::vector<std::size_t> cols;
    std::vector<sql::detail::NodePtr> row;
    for (const ColumnInfo& c : t.columns) {
      if (c.identity && c.is_unset(&obj)) continue;
      cols.push_back(c.index);
      row.push_back(sql::detail::make_bind(c.get(&obj)));
    }
    return std::move(*this).add_row(std::move(cols), std::move(row));
  }
  Insert values(const T& obj) const& { return Insert(*this).values(obj); }
  ///@}
  /// Adds one row per object (one multi-row INSERT).
  /// Throws UsageError when the rows do not set the same columns (an identity set in some
  /// objects and still 0 in others).
  ///@{
  Insert values(std::span<const T> objs) && {
    for (const T& o : objs) *this = std::move(*this).values(o);
    return std::move(*this);
  }
  Insert values(std::span<const T> objs) const& { return Insert(*this).values(objs); }
  Insert values(const std::vector<T>& objs) && { return std::move(*this).values(std::span<const T>(objs)); }
  Insert values(const std::vector<T>& objs) const& { return Insert(*this).values(std::span<const T>(objs)); }
  ///@}
  /// Adds one row from column = value pairs; columns left out get their client default
  /// (default_value / default_fn) when they have one, else the server's DEFAULT.
  ///@{
  template <class... As>
    requires(sizeof...(As) > 0 && (std::is_same_v<As, Assignment<T>> && ...))
  Insert values(const As&... sets) && {
    std::vector<std::size_t> cols{sets.column...};
    std::vector<sql::detail::NodePtr> row{sets.value...};
    for (const ColumnInfo& c : table_info<T>().columns) {
      if (c.client_default && std::find(cols.begin(), cols.end(), c.index) == cols.end()) {
        cols.push_back(c.index);
        row.push_back(sql::detail::make_bind(c.client_default()));
      }
    }
    return std::move(*this).add_row(std::move(cols), std::move(row));
  }
  template <class... As>
    requires(sizeof...(As) > 0 && (std::is_same_v<As, Assignment<T>> && ...))
  Insert values(const As&... sets) const& { return Insert(*this).values(sets...); }
  ///@}
  /// Adds one row from (column ordinal, value) pairs — for code working through TableInfo
  /// (the session's flush).
  Insert values_raw(const std::vector<std::pair<std::size_t, Value>>& row) && {
    std::vector<std::size_t> cols;
    std::vector<sql::detail::NodePtr> nodes;
    for (const auto& [i, v] : row) {
      cols.push_back(i);
      nodes.push_back(sql::detail::make_bind(v));
    }
    return std::move(*this).add_row(std::move(cols), std::move(nodes));
  }

  /// ON CONFLICT (members...) — follow with do_nothing() or do_update(...).
  ///@{
  template <class... Ms>
  Insert on_conflict(Ms T::*... members) && {
    core_.conflict_target.clear();
    (core_.conflict_target.push_back(index_of(members)), ...);
    return std::move(*this);
  }
  template <class... Ms>
  Insert on_conflict(Ms T::*... members) const& { return Insert(*this).on_conflict(members...); }
  ///@}
  /// ON CONFLICT [target] DO NOTHING.
  ///@{
  Insert do_nothing() && {
    core_.conflict = sql::detail::Conflict::do_nothing;
    return std::move(*this);
  }
  Insert do_nothing() const& { return Insert(*this).do_nothing(); }
  ///@}
  /// ON CONFLICT DO NOTHING with no target (any unique violation).
  ///@{
  Insert on_conflict_do_nothing() && { return std::move(*this).do_nothing(); }
  Insert on_conflict_do_nothing() const& { return Insert(*this).do_nothing(); }
  ///@}
  /// DO UPDATE SET m = excluded.m for each member (needs on_conflict(target) first).
  /// Throws UsageError when no on_conflict(target) came before.
  ///@{
  template <class... Ms>
    requires(sizeof...(Ms) > 0)
  Insert do_update(Ms T::*... members) && {
    if (core_.conflict_target.empty()) sql::detail::throw_conflict_usage("do_update");
    core_.conflict = sql::detail::Conflict::do_update;
    (core_.conflict_set.emplace_back(index_of(members), excluded(members).node()), ...);
    return std::move(*this);
  }
  template <class... Ms>
    requires(sizeof...(Ms) > 0)
  Insert do_update(Ms T::*... members) const& { return Insert(*this).do_update(members...); }
  ///@}
  /// DO UPDATE SET with explicit assignments: `corm::set(&Stock::qty, col(&Stock::qty) +
  /// corm::excluded(&Stock::qty))`.
  /// Throws UsageError when no on_conflict(target) came before.
  ///@{
  template <class... As>
    requires(sizeof...(As) > 0 && (std::is_same_v<As, Assignment<T>> && ...))
  Insert do_update_set(const As&... sets) && {
    if (core_.conflict_target.empty()) sql::detail::throw_conflict_usage("do_update_set");
    core_.conflict = sql::detail::Conflict::do_update;
    (core_.conflict_set.emplace_back(sets.column, sets.value), ...);
    return std::move(*this);
  }
  template <class... As>
    requires(sizeof...(As) > 0 && (std::is_same_v<As, Assignment<T>> && ...))
  Insert do_update_set(const As&... sets) const& { return Insert(*this).do_update_set(sets...); }
  ///@}
  /// Only update when the condition holds (`... DO UPDATE SET ... WHERE cond`).
  /// MySQL has no such WHERE: compiling for it throws UsageError.
  template <Predicate P>
  Insert do_update_where(const P& p) && {
    core_.conflict_where = p.node();
    return std::move(*this);
  }

  /// RETURNING these expressions; rows read back as a tuple.
  template <class... Ts>
  Insert<T, std::tuple<Ts...>> returning(const Expr<Ts>&... e) const {
    auto c = core_;
    c.returning = {e.node()...};
    return Insert<T, std::tuple<Ts...>>(std::move(c));
  }
  /// RETURNING every mapped column; rows read back as T.
  Insert<T, T> returning_all() const {
    auto c = core_;
    c.returning = sql::detail::entity_columns(table_info<T>());
    return Insert<T, T>(std::move(c));
  }

  /// SQL and parameters for dialect `d` (through the compiled-SQL cache). Throws UsageError
  /// when no row was added.
  Compiled compile(Dialect d) const { return sql::detail::compile(core_, d); }
  /// Reads one RETURNING row as R.
  static R decode(const Row& row) requires(!std::is_void_v<R>) { return detail::RowDecoder<R>::decode(row); }
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  const sql::detail::InsertCore& core() const noexcept { return core_; }
  /// @endcond

 private:
  template <class M>
  static std::size_t index_of(M T::*m) {
    std::size_t i = detail::column_index_of<T>(m);
    if (i == detail::npos) detail::throw_unmapped_member(table_name<T>());
    return i;
  }
  Insert add_row(std::vector<std::size_t> cols, std::vector<sql::detail::NodePtr> row) && {
    if (core_.rows.empty()) core_.columns = std::move(cols);
    else if (cols != core_.columns) sql::detail::throw_insert_shape_mismatch(core_.table->name);
    core_.rows.push_back(std::move(row));
    return std::move(*this);
  }

  sql::detail::InsertCore core_;
};

/// An INSERT into T's table; add rows with values(...).
template <Mapped T>
Insert<T> insert() {
  sql::detail::InsertCore core;
  core.table = &table_info<T>();
  return Insert<T>(std::move(core));
}

}  // namespace corm
