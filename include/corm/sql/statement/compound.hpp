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
  using row_type = R;
  explicit Compound(sql::detail::SelectCore core) : core_(std::move(core)) {}

  Compound union_(const Select<R>& s) && { return std::move(*this).add(sql::detail::SetOp::union_, s); }
  Compound union_(const Select<R>& s) const& { return Compound(*this).union_(s); }
  Compound union_all(const Select<R>& s) && { return std::move(*this).add(sql::detail::SetOp::union_all, s); }
  Compound union_all(const Select<R>& s) const& { return Compound(*this).union_all(s); }

  template <class... Os>
  Compound order_by(const Os&... o) && {
    (core_.order_by.push_back(term(o)), ...);
    return std::move(*this);
  }
  template <class... Os>
  Compound order_by(const Os&... o) const& { return Compound(*this).order_by(o...); }
  Compound limit(std::int64_t n) && {
    core_.limit = sql::detail::make_bind(Value(n));
    return std::move(*this);
  }
  Compound limit(std::int64_t n) const& { return Compound(*this).limit(n); }
  Compound offset(std::int64_t n) && {
    core_.offset = sql::detail::make_bind(Value(n));
    return std::move(*this);
  }
  Compound offset(std::int64_t n) const& { return Compound(*this).offset(n); }

  Subquery<R> subquery(std::string_view name) const { return Subquery<R>(core_ptr(), std::string(name)); }
  Compiled compile(Dialect d) const { return sql::detail::compile(core_, d); }
  static R decode(const Row& row) { return detail::RowDecoder<R>::decode(row); }
  sql::detail::SelectPtr core_ptr() const { return std::make_shared<const sql::detail::SelectCore>(core_); }

  Compound add(sql::detail::SetOp op, const Select<R>& s) && {
    const auto& c = s.core();
    if (!c.order_by.empty() || c.limit || c.offset || c.for_update.enabled)
      sql::detail::throw_compound_member_clause();
    core_.parts.emplace_back(op, s.core_ptr());
    return std::move(*this);
  }

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
