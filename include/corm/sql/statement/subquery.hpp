#pragma once
// Subquery<R>: a SELECT used as a named table in FROM or JOIN
// (`auto counts = select(...).group_by(...).subquery("counts")`). Its columns are reached by
// name (`counts.c<std::int64_t>("n")`) or through the mapped member they select
// (`counts.col(&Book::author_id)`).

#include <string>
#include <string_view>

#include "corm/sql/expression/column_expr.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"

namespace corm {

/// A named subquery in FROM. Create with Select::subquery(name).
template <class R>
class Subquery {
 public:
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  Subquery(sql::detail::SelectPtr core, std::string name) : core_(std::move(core)), name_(std::move(name)) {}
  /// @endcond

  /// The subquery's output column `column` (a mapped column's name, or a label) as type V.
  template <class V>
  Expr<V> c(std::string_view column) const {
    return Expr<V>(sql::detail::make_named_column(core_, name_, column));
  }
  /// The subquery's output column produced by selecting `member`'s column.
  template <class C, class M>
    requires ColumnMember<C, M>
  Expr<M> col(M C::*member) const {
    std::size_t i = detail::column_index_of<C>(member);
    if (i == detail::npos) detail::throw_unmapped_member(table_name<C>());
    return Expr<M>(sql::detail::make_named_column(core_, name_, table_info<C>().columns[i].name));
  }
  /// The name given to Select::subquery(), by which the SQL refers to it.
  const std::string& name() const noexcept { return name_; }
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  sql::detail::FromItem from_item() const { return sql::detail::FromItem{nullptr, name_, core_}; }
  /// @endcond

 private:
  sql::detail::SelectPtr core_;
  std::string name_;
};

}  // namespace corm
