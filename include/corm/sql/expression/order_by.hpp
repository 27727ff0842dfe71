#pragma once
// ORDER BY terms: corm::asc / corm::desc with nulls_first / nulls_last, and order_by_name<T>
// for sort keys that come from user input (an allow-list of mapped column names).

#include <string_view>

#include "corm/sql/expression/column_expr.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"

namespace corm {

/// One ORDER BY term. Build with corm::asc, corm::desc or Expr::asc/desc.
class OrderBy {
 public:
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  explicit OrderBy(sql::detail::OrderTerm t) : term_(std::move(t)) {}
  /// @endcond
  /// NULLs sort first / last (PostgreSQL and SQLite ≥ 3.30 both accept NULLS FIRST/LAST).
  /// MySQL, which has neither, gets an `x IS NULL` sort key ahead of the term instead.
  OrderBy nulls_first() const { auto t = term_; t.nulls = sql::detail::Nulls::first; return OrderBy(t); }
  /// NULLs sort last; see nulls_first().
  OrderBy nulls_last() const { auto t = term_; t.nulls = sql::detail::Nulls::last; return OrderBy(t); }
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  const sql::detail::OrderTerm& term() const noexcept { return term_; }
  /// @endcond

 private:
  sql::detail::OrderTerm term_;
};

template <class T>
OrderBy Expr<T>::asc() const { return OrderBy(sql::detail::OrderTerm{node_, false, {}}); }
template <class T>
OrderBy Expr<T>::desc() const { return OrderBy(sql::detail::OrderTerm{node_, true, {}}); }

/// Ascending order by an expression or a mapped member: `corm::asc(&Book::title)`.
template <class T>
OrderBy asc(const Expr<T>& e) { return e.asc(); }
/// Ascending order by a mapped member: `corm::asc(&Book::title)`.
template <class C, class M>
  requires ColumnMember<C, M>
OrderBy asc(M C::*member) { return col(member).asc(); }
/// Descending order: `corm::desc(&Author::id)`.
template <class T>
OrderBy desc(const Expr<T>& e) { return e.desc(); }
/// Descending order by a mapped member: `corm::desc(&Author::id)`.
template <class C, class M>
  requires ColumnMember<C, M>
OrderBy desc(M C::*member) { return col(member).desc(); }

/// Sort direction for order_by_name.
enum class Direction : std::uint8_t { asc, desc };

namespace sql::detail {
/// ORDER BY term for the mapped column of `table` named `name`; ConfigError listing the
/// allowed names when there is no such column.
OrderBy order_by_name(const TableInfo& table, std::string_view name, Direction dir);
}  // namespace sql::detail

/// An ORDER BY term from a column NAME (a `?sort=title` parameter): only T's mapped column
/// names are accepted, anything else throws ConfigError — user input never reaches the SQL.
template <Mapped T>
OrderBy order_by_name(std::string_view name, Direction dir = Direction::asc) {
  return sql::detail::order_by_name(table_info<T>(), name, dir);
}

}  // namespace corm
