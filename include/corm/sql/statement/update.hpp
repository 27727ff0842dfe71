#pragma once
// update<T>(): `UPDATE t SET ... WHERE ... RETURNING ...`.
//   corm::update<Book>().set(&Book::pages, corm::col(&Book::pages) + 1)
//       .where(corm::col(&Book::id) == id).returning(corm::col(&Book::pages));

#include <tuple>
#include <utility>

#include "corm/sql/compiled.hpp"
#include "corm/sql/statement/assignment.hpp"
#include "corm/sql/statement/returning.hpp"
#include "corm/sql/statement/detail/row_decoder.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"

namespace corm {

namespace sql::detail {
/// `pk1 = $ AND pk2 = $ ...` for the key values of an object of `t`.
NodePtr primary_key_predicate(const TableInfo& t, const void* obj);
}  // namespace sql::detail

/// An UPDATE of T's table. R is the RETURNING row type (void: none). Without where(), every
/// row is updated.
template <Mapped T, class R = void>
class Update {
 public:
  /// The RETURNING row type (void when there is no RETURNING).
  using row_type = R;
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  explicit Update(sql::detail::UpdateCore core) : core_(std::move(core)) {}
  /// @endcond

  /// SET member = value (a compatible value or expression).
  ///@{
  template <class M, class V>
    requires ColumnMember<T, M>
  Update set(M T::*member, const V& value) && {
    auto a = corm::set(member, value);
    core_.set.emplace_back(a.column, a.value);
    return std::move(*this);
  }
  template <class M, class V>
    requires ColumnMember<T, M>
  Update set(M T::*member, const V& value) const& { return Update(*this).set(member, value); }
  ///@}
  /// SET from (column ordinal, value) — for code working through TableInfo (the flush).
  Update set_raw(std::size_t ordinal, Value v) && {
    core_.set.emplace_back(ordinal, sql::detail::make_bind(std::move(v)));
    return std::move(*this);
  }
  /// WHERE (several calls are ANDed).
  ///@{
  template <Predicate P>
  Update where(const P& p) && {
    core_.where = sql::detail::and_also(core_.where, p.node());
    return std::move(*this);
  }
  template <Predicate P>
  Update where(const P& p) const& { return Update(*this).where(p); }
  ///@}
  /// WHERE the primary key equals `obj`'s.
  /// Throws ConfigError when T has no primary key.
  Update where_pk(const T& obj) && {
    core_.where = sql::detail::and_also(core_.where, sql::detail::primary_key_predicate(table_info<T>(), &obj));
    return std::move(*this);
  }

  /// RETURNING these expressions; rows read back as a tuple. MySQL has no UPDATE … RETURNING:
  /// compiling for it throws UsageError.
  template <class... Ts>
  Update<T, std::tuple<Ts...>> returning(const Expr<Ts>&... e) const {
    auto c = core_;
    c.returning = {e.node()...};
    return Update<T, std::tuple<Ts...>>(std::move(c));
  }
  /// RETURNING every mapped column; rows read back as T (not on MySQL, as returning()).
  Update<T, T> returning_all() const {
    auto c = core_;
    c.returning = sql::detail::entity_columns(table_info<T>());
    return Update<T, T>(std::move(c));
  }

  /// SQL and parameters for dialect `d` (through the compiled-SQL cache).
  Compiled compile(Dialect d) const { return sql::detail::compile(core_, d); }
  /// Reads one RETURNING row as R.
  static R decode(const Row& row) requires(!std::is_void_v<R>) { return detail::RowDecoder<R>::decode(row); }
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  const sql::detail::UpdateCore& core() const noexcept { return core_; }
  /// @endcond

 private:
  sql::detail::UpdateCore core_;
};

/// An UPDATE of T's table; add set(...) and where(...).
template <Mapped T>
Update<T> update() {
  sql::detail::UpdateCore core;
  core.table = &table_info<T>();
  return Update<T>(std::move(core));
}

}  // namespace corm
