#include "sql/compiler/shape_key.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "corm/sql/schema/table_info.hpp"

namespace corm::sql::detail {

namespace {
// Built-in functions that neither write nor lock, on both dialects. Any other name may be a
// user function with side effects, so a statement calling it is not a plain read. Sorted.
constexpr std::array<std::string_view, 33> pure_functions = {
    "abs",        "array_agg", "avg",      "bool_and", "bool_or",    "ceil",    "char_length",
    "coalesce",   "concat",    "count",    "date",     "date_part",  "date_trunc", "every",
    "floor",      "greatest",  "json_agg", "jsonb_agg", "least",     "length",  "lower",
    "max",        "min",       "nullif",   "replace",  "round",      "string_agg", "substr",
    "substring",  "sum",       "total",    "trim",     "upper"};

bool is_pure_function(std::string_view name) {
  return std::binary_search(pure_functions.begin(), pure_functions.end(), name);
}
}  // namespace

void ShapeWalker::node(const NodePtr& np) {
  const Node& n = *np;
  u8(static_cast<std::uint8_t>(n.kind));
  switch (n.kind) {
    case NodeKind::bind:
      params.push_back(n.value);
      return;
    case NodeKind::list_bind:
      if (rules_.expands_lists()) {
        // One placeholder per item: the length is part of the SQL text.
        const auto& items = std::get<Array>(n.value.storage()).items;
        size(items.size());
        params.insert(params.end(), items.begin(), items.end());
      } else {
        params.push_back(rules_.list_param(n.value));
      }
      return;
    case NodeKind::column:
    case NodeKind::excluded:
      ptr(n.column);
      str(n.qualifier);
      return;
    case NodeKind::named_column:
      // The subquery itself is compiled (and its values bound) where it sits in FROM.
      str(n.qualifier);
      str(n.text);
      return;
    case NodeKind::func:
      if (!is_pure_function(n.text)) side_effect_free = false;
      break;
    default:
      break;
  }
  u8(static_cast<std::uint8_t>(n.op));
  u8(n.flag ? 1 : 0);
  u8(static_cast<std::uint8_t>(n.cast_type));
  str(n.text);
  list(n.args);
  u8(n.select ? 1 : 0);
  if (n.select) select(*n.select);
}

void ShapeWalker::from_item(const FromItem& f) {
  ptr(f.table);
  str(f.alias);
  u8(f.subquery ? 1 : 0);
  if (f.subquery) select(*f.subquery);
}

void ShapeWalker::order_by(const std::vector<OrderTerm>& terms) {
  size(terms.size());
  for (const OrderTerm& t : terms) {
    u8(static_cast<std::uint8_t>((t.desc ? 1 : 0) | (static_cast<int>(t.nulls) << 1)));
    // A labelled term renders as the label's name (no values), as in SqlWriter::order_by.
    if (t.expr->kind == NodeKind::label) {
      u8(0xff);
      str(t.expr->text);
    } else {
      node(t.expr);
      // Written twice where NULLS FIRST / LAST is emulated (SqlWriter::order_by).
      if (t.nulls != Nulls::unspecified && rules_.emulates_nulls_order()) node(t.expr);
    }
  }
}

void ShapeWalker::plain_select(const SelectCore& s) {
  std::vector<FromItem> from = effective_from(s, scope_);
  const std::size_t mark = scope_.size();
  scope_.insert(scope_.end(), from.begin(), from.end());
  for (const Join& j : s.joins) scope_.push_back(j.target);
  u8(s.distinct ? 1 : 0);
  list(s.columns);
  size(from.size());
  for (const FromItem& f : from) from_item(f);
  size(s.joins.size());
  for (const Join& j : s.joins) {
    u8(j.left ? 1 : 0);
    from_item(j.target);
    node(j.on);
  }
  opt(s.where);
  list(s.group_by);
  opt(s.having);
  order_by(s.order_by);
  opt(s.limit);
  opt(s.offset);
  const ForUpdate& f = s.for_update;
  if (f.enabled) side_effect_free = false;
  u8(static_cast<std::uint8_t>((f.enabled ? 1 : 0) | (f.nowait ? 2 : 0) | (f.skip_locked ? 4 : 0) | (f.share ? 8 : 0)));
  size(f.of.size());
  for (const FromItem& o : f.of) {
    ptr(o.table);
    str(o.alias);
  }
  scope_.resize(mark);
}

void ShapeWalker::select(const SelectCore& s) {
  u8('S');
  size(s.parts.size());
  if (s.parts.empty()) {
    plain_select(s);
    return;
  }
  for (const auto& [op, part] : s.parts) {
    u8(static_cast<std::uint8_t>(op));
    plain_select(*part);
  }
  order_by(s.order_by);
  opt(s.limit);
  opt(s.offset);
}

void ShapeWalker::insert(const InsertCore& s) {
  u8('I');
  ptr(s.table);
  size(s.columns.size());
  for (std::size_t c : s.columns) size(c);
  size(s.rows.size());
  for (const auto& row : s.rows) list(row);
  u8(static_cast<std::uint8_t>(s.conflict));
  size(s.conflict_target.size());
  for (std::size_t c : s.conflict_target) size(c);
  size(s.conflict_set.size());
  for (const auto& [c, n] : s.conflict_set) {
    size(c);
    node(n);
  }
  opt(s.conflict_where);
  list(s.returning);
}

void ShapeWalker::update(const UpdateCore& s) {
  u8('U');
  ptr(s.table);
  size(s.set.size());
  for (const auto& [c, n] : s.set) {
    size(c);
    node(n);
  }
  opt(s.where);
  list(s.returning);
}

void ShapeWalker::delete_(const DeleteCore& s) {
  u8('D');
  ptr(s.table);
  opt(s.where);
  list(s.returning);
}

}  // namespace corm::sql::detail
