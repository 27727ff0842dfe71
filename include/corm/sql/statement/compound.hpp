#pragma once
// UNION / UNION ALL of selects with the same row type. ORDER BY, LIMIT and OFFSET apply to the
// whole result (members may not have their own: SQLite does not allow it); ORDER BY names
// result columns, so order by a selected column or its label.

#include <cstdint>
#include <memory>
#include <utility>

#include "corm/sql/statement/select.hpp"

namespace corm {

/// A compound select: `a.union_(b)`, `corm::union_all(a, b, c)`.
template <class R>
class Compound {
 public:
  /// The type each row reads back as (R).
  using row_type = R;
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  explicit Compound(sql::detail::SelectCore core) : core_(std::move(core)) {}
  /// @endcond

  /// Adds another select with UNION (duplicates removed). Throws UsageError when `s` has its own
  /// ORDER BY, LIMIT, OFFSET or FOR UPDATE.
  ///@{
  Compound union_(const Select<R>& s) && { return std::move(*this).add(sql::detail::SetOp::union_, s); }
  Compound union_(const Select<R>& s) const& { return Compound(*this).union_(s); }
  ///@}
  /// Adds another select with UNION ALL (duplicates kept). Throws UsageError when `s` has its
  /// own ORDER BY, LIMIT, OFFSET or FOR UPDATE.
  ///@{
  Compound union_all(const Select<R>& s) && { return std::move(*this).add(sql::detail::SetOp::union_all, s); }
  Compound union_all(const Select<R>& s) const& { return Compound(*this).union_all(s); }
  ///@}

  /// ORDER BY for the whole result: corm::asc/desc(...) or expressions (ascending). The terms
  /// name result columns, so order by a selected column or its label.
  ///@{
  template <class... Os>
  Compound order_by(const Os&... o) && {
    (core_.order_by.push_back(term(o)), ...);
    return std::move(*this);
  }
  template <class... Os>
  Compound order_by(const Os&... o) const& { return Compound(*this).order_by(o...); }
  ///@}
  /// LIMIT n for the whole result (bound as a parameter).
  ///@{
  Compound limit(std::int64_t n) && {
    core_.limit = sql::detail::make_bind(Value(n));
    return std::move(*this);
  }
  Compound limit(std::int64_t n) const& { return Compound(*this).limit(n); }
  ///@}
  /// OFFSET n for the whole result (bound as a parameter).
  ///@{
  Compound offset(std::int64_t n) && {
    core_.offset = sql::detail::make_bind(Value(n));
    return std::move(*this);
  }
  Compound offset(std::int64_t n) const& { return Compound(*this).offset(n); }
  ///@}

  /// This compound select as a named subquery for FROM / JOIN.
  Subquery<R> subquery(std::string_view name) const { return Subquery<R>(core_ptr(), std::string(name)); }
  /// SQL and parameters for dialect `d` (through the compiled-SQL cache).
  Compiled compile(Dialect d) const { return sql::detail::compile(core_, d); }
  /// Reads one result row as R.
  static R decode(const Row& row) { return detail::RowDecoder<R>::decode(row); }
  /// @cond INTERNAL
  /// Used by corm's own layers; not part of the API.
  sql::detail::SelectPtr core_ptr() const { return std::make_shared<const sql::detail::SelectCore>(core_); }

  /// Used by corm's own layers; not part of the API.
  Compound add(sql::detail::SetOp op, const Select<R>& s) && {
    const auto& c = s.core();
    if (!c.order_by.empty() || c.limit || c.offset || c.for_update.enabled)
      sql::detail::throw_compound_member_clause();
    core_.parts.emplace_back(op, s.core_ptr());
    return std::move(*this);
  }
  /// @endcond

 private:
  template <class O>
  static sql::detail::OrderTerm term(const O& o) {
    if constexpr (std::is_same_v<O, OrderBy>) return o.term();
    else return sql::detail::OrderTerm{o.node(), false, {}};
  }
  sql::detail::SelectCore core_;
};

template <class R>
Compound<R> Select<R>::union_(const Select& other) const {
  return Compound<R>(sql::detail::SelectCore{}).add(sql::detail::SetOp::union_, *this).add(sql::detail::SetOp::union_, other);
}
template <class R>
Compound<R> Select<R>::union_all(const Select& other) const {
  return Compound<R>(sql::detail::SelectCore{}).add(sql::detail::SetOp::union_all, *this).add(sql::detail::SetOp::union_all, other);
}

/// UNION of two or more selects (duplicates removed).
template <class R, class... More>
Compound<R> union_(const Select<R>& a, const Select<R>& b, const More&... more) {
  auto c = a.union_(b);
  ((c = std::move(c).union_(more)), ...);
  return c;
}
/// UNION ALL of two or more selects (duplicates kept).
template <class R, class... More>
Compound<R> union_all(const Select<R>& a, const Select<R>& b, const More&... more) {
  auto c = a.union_all(b);
  ((c = std::move(c).union_all(more)), ...);
  return c;
}

}  // namespace corm
