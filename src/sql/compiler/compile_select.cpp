// SELECT and compound SELECT.

#include "corm/core/error.hpp"
#include "corm/sql/schema/table_info.hpp"
#include "sql/compiler/sql_writer.hpp"

namespace corm::sql::detail {

void SqlWriter::from_item(const FromItem& f) {
  if (f.subquery) {
    raw("(");
    select(*f.subquery);
    raw(") AS ");
    ident(f.alias);
  } else {
    ident(f.table->name);
    if (!f.alias.empty()) {
      raw(" AS ");
      ident(f.alias);
    }
  }
}

void SqlWriter::order_by(const std::vector<OrderTerm>& terms) {
  if (terms.empty()) return;
  raw(" ORDER BY ");
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (i) raw(", ");
    const OrderTerm& t = terms[i];
    // A labelled term orders by the select-list item of that name.
    auto term = [&] {
      if (t.expr->kind == NodeKind::label) ident(t.expr->text);
      else expr(*t.expr);
    };
    if (t.nulls != Nulls::unspecified && rules.emulates_nulls_order()) {
      // `x IS NULL` sorts false (0) before true (1): ascending puts NULLs last.
      term();
      raw(t.nulls == Nulls::first ? " IS NULL DESC, " : " IS NULL, ");
      term();
      if (t.desc) raw(" DESC");
      continue;
    }
    term();
    if (t.desc) raw(" DESC");
    if (t.nulls == Nulls::first) raw(" NULLS FIRST");
    else if (t.nulls == Nulls::last) raw(" NULLS LAST");
  }
}

void SqlWriter::plain_select(const SelectCore& s) {
  std::vector<FromItem> from = effective_from(s, scope);
  // Nested selects (in any clause, the select list included) see this statement's FROM items
  // as correlated.
  const std::size_t scope_mark = scope.size();
  scope.insert(scope.end(), from.begin(), from.end());
  for (const Join& j : s.joins) scope.push_back(j.target);
  raw(s.distinct ? "SELECT DISTINCT " : "SELECT ");
  if (s.columns.empty()) throw UsageError("a SELECT needs at least one column");
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    if (i) raw(", ");
    select_item(*s.columns[i]);
  }
  if (!from.empty()) {
    raw(" FROM ");
    for (std::size_t i = 0; i < from.size(); ++i) {
      if (i) raw(", ");
      from_item(from[i]);
    }
  }
  for (const Join& j : s.joins) {
    raw(j.left ? " LEFT OUTER JOIN " : " JOIN ");
    from_item(j.target);
    raw(" ON ");
    expr(*j.on);
  }
  if (s.where) {
    raw(" WHERE ");
    expr(*s.where);
  }
  if (!s.group_by.empty()) {
    raw(" GROUP BY ");
    for (std::size_t i = 0; i < s.group_by.size(); ++i) {
      if (i) raw(", ");
      expr(*s.group_by[i]);
    }
  }
  if (s.having) {
    raw(" HAVING ");
    expr(*s.having);
  }
  order_by(s.order_by);
  rules.limit_offset(*this, s.limit, s.offset);
  rules.for_update(*this, s.for_update);
  scope.resize(scope_mark);
}

void SqlWriter::select(const SelectCore& s) {
  if (s.parts.empty()) {
    plain_select(s);
    return;
  }
  for (std::size_t i = 0; i < s.parts.size(); ++i) {
    if (i) raw(s.parts[i].first == SetOp::union_all ? " UNION ALL " : " UNION ");
    plain_select(*s.parts[i].second);
  }
  // The ORDER BY of a compound names result columns: bare names only.
  const bool q = qualify;
  qualify = false;
  order_by(s.order_by);
  qualify = q;
  rules.limit_offset(*this, s.limit, s.offset);
}

}  // namespace corm::sql::detail
