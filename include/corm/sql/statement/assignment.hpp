#pragma once
// corm::set(&Book::title, "x"): one column = value pair, for insert values and update SET;
// corm::excluded(&Book::title): the row an upsert tried to insert (ON CONFLICT DO UPDATE).

#include <cstddef>

#include "corm/sql/expression/column_expr.hpp"

namespace corm {

/// A column of model C paired with a value or expression.
template <class C>
struct Assignment {
  /// Position of the column among C's mapped columns (declaration order).
  std::size_t column;
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  sql::detail::NodePtr value;
  /// @endcond
};

/// `member = value` (a value of a compatible type, or an Expr: `col(&Book::pages) + 1`).
template <class C, class M, class V>
  requires ColumnMember<C, M>
Assignment<C> set(M C::*member, const V& value) {
  CORM_DETAIL_CHECK_OPERAND(V);
  CORM_DETAIL_CHECK_COMPARABLE(M, detail::operand_t<V>);
  std::size_t i = detail::column_index_of<C>(member);
  if (i == detail::npos) detail::throw_unmapped_member(table_name<C>());
  return Assignment<C>{i, detail::operand(value)};
}

/// `excluded."col"`: in on_conflict(...).do_update_set(...), the value the INSERT proposed.
template <class C, class M>
  requires ColumnMember<C, M>
Expr<M> excluded(M C::*member) {
  auto n = std::make_shared<sql::detail::Node>(*col(member).node());
  n->kind = sql::detail::NodeKind::excluded;
  return Expr<M>(std::move(n));
}

}  // namespace corm
