#pragma once
// delete_<T>(): `DELETE FROM t WHERE ... RETURNING ...` (delete is a C++ keyword, hence the _).

#include <tuple>
#include <utility>

#include "corm/sql/compiled.hpp"
#include "corm/sql/statement/returning.hpp"
#include "corm/sql/statement/detail/row_decoder.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"
#include "corm/sql/statement/update.hpp"

namespace corm {

/// A DELETE from T's table. R is the RETURNING row type (void: none). Without where(), every
/// row is deleted.
template <Mapped T, class R = void>
class Delete {
 public:
  /// The RETURNING row type (void when there is no RETURNING).
  using row_type = R;
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  explicit Delete(sql::detail::DeleteCore core) : core_(std::move(core)) {}
  /// @endcond

  /// WHERE (several calls are ANDed).
  ///@{
  template <Predicate P>
  Delete where(const P& p) && {
    core_.where = sql::detail::and_also(core_.where, p.node());
    return std::move(*this);
  }
  template <Predicate P>
  Delete where(const P& p) const& { return Delete(*this).where(p); }
  ///@}
  /// WHERE the primary key equals `obj`'s.
  /// Throws ConfigError when T has no primary key.
  Delete where_pk(const T& obj) && {
    core_.where = sql::detail::and_also(core_.where, sql::detail::primary_key_predicate(table_info<T>(), &obj));
    return std::move(*this);
  }

  /// RETURNING these expressions (the deleted rows' values); rows read back as a tuple.
  template <class... Ts>
  Delete<T, std::tuple<Ts...>> returning(const Expr<Ts>&... e) const {
    auto c = core_;
    c.returning = {e.node()...};
    return Delete<T, std::tuple<Ts...>>(std::move(c));
  }
  /// RETURNING every mapped column; rows read back as T.
  Delete<T, T> returning_all() const {
    auto c = core_;
    c.returning = sql::detail::entity_columns(table_info<T>());
    return Delete<T, T>(std::move(c));
  }

  /// SQL and parameters for dialect `d` (through the compiled-SQL cache).
  Compiled compile(Dialect d) const { return sql::detail::compile(core_, d); }
  /// Reads one RETURNING row as R.
  static R decode(const Row& row) requires(!std::is_void_v<R>) { return detail::RowDecoder<R>::decode(row); }
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  const sql::detail::DeleteCore& core() const noexcept { return core_; }
  /// @endcond

 private:
  sql::detail::DeleteCore core_;
};

/// A DELETE from T's table; add where(...).
template <Mapped T>
Delete<T> delete_() {
  sql::detail::DeleteCore core;
  core.table = &table_info<T>();
  return Delete<T>(std::move(core));
}

}  // namespace corm
