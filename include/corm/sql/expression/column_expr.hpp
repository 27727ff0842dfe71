#pragma once
// corm::col(&Book::pages): the typed expression for a mapped column, and corm::aliased<T>() for
// naming a table twice in one statement (self-joins).

#include <string>
#include <string_view>

#include "corm/sql/expression/expr.hpp"
#include "corm/sql/schema/table_info.hpp"

namespace corm {

/// A member that can name a column: a mapped model, a column value type, and at least one
/// column of that member type in the mapping (so `col(&Author::books)` does not compile).
template <class C, class M>
concept ColumnMember = Mapped<C> && ColumnValue<M> && detail::has_column_of_type<C, M>();

/// The column mapped to `member`: `corm::col(&Book::pages) > 100`. Throws ConfigError when the
/// member has a column type but is not mapped.
template <class C, class M>
  requires ColumnMember<C, M>
Expr<M> col(M C::*member) {
  std::size_t i = detail::column_index_of<C>(member);
  if (i == detail::npos) detail::throw_unmapped_member(table_name<C>());
  return Expr<M>(sql::detail::make_column(&table_info<C>().columns[i]));
}

/// A second name for T's table in one statement: `auto boss = corm::aliased<Employee>("boss");
/// select<Employee>().join(boss, col(&Employee::boss_id) == boss.col(&Employee::id))`.
template <Mapped T>
class Alias {
 public:
  /// An alias of T's table named `name` (corm::aliased<T>() gives a default name).
  explicit Alias(std::string name) : name_(std::move(name)) {}
  /// The column `member` of this alias.
  template <class M>
    requires ColumnMember<T, M>
  Expr<M> col(M T::*member) const {
    std::size_t i = detail::column_index_of<T>(member);
    if (i == detail::npos) detail::throw_unmapped_member(table_name<T>());
    return Expr<M>(sql::detail::make_column(&table_info<T>().columns[i], name_));
  }
  /// The alias name, as the SQL refers to the table.
  const std::string& name() const noexcept { return name_; }
  /// The mapping of T's table.
  const TableInfo& table() const { return table_info<T>(); }

 private:
  std::string name_;
};

/// An alias of T's table named `name` (default "<table>_1"). Give each alias of one table in
/// a statement its own name.
template <Mapped T>
Alias<T> aliased(std::string_view name = {}) {
  if (name.empty()) return Alias<T>(std::string(table_name<T>()) + "_1");
  return Alias<T>(std::string(name));
}

}  // namespace corm
