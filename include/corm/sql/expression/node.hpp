#pragma once
// The run-time tree every statement is built from. The typed front (Expr<T>, Select<R>, ...)
// only checks types at compile time and builds these nodes; the dialect compilers walk them.
// Nodes are immutable once built and shared between statements, so building a statement from
// reusable pieces is cheap and a statement can be compiled from many threads at once.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corm/core/value.hpp"
#include "corm/sql/schema/column_type.hpp"

namespace corm {
struct ColumnInfo;
class TableInfo;
}  // namespace corm

namespace corm::sql::detail {

struct Node;
struct SelectCore;
using NodePtr = std::shared_ptr<const Node>;
using SelectPtr = std::shared_ptr<const SelectCore>;

enum class NodeKind : std::uint8_t {
  column,         // a mapped column: column + qualifier (alias; empty = the table itself)
  named_column,   // a column of a subquery in FROM: qualifier + text; `select` = the subquery
  excluded,       // excluded."col" in ON CONFLICT DO UPDATE
  bind,           // one bound value
  list_bind,      // a list bound as ONE parameter (in_): Array on PostgreSQL, JSON on SQLite
  unary,          // NOT x, -x
  binary,         // x op y
  is_null,        // x IS [NOT] NULL       (op: is_null / is_not_null)
  in_list,        // x [NOT] IN list_bind  (op: in / not_in)
  in_select,      // x [NOT] IN (select)
  between,        // x [NOT] BETWEEN a AND b
  like,           // x [NOT] [I]LIKE pattern [ESCAPE '\'] (flag: escape)
  func,           // name(args...) — name validated at build time
  count_star,     // count(*)
  now,            // the current timestamp
  cast,           // CAST(x AS type)
  scalar_select,  // (SELECT ...)
  exists,         // [NOT] EXISTS (SELECT ...)
  label,          // x AS "text"
  null_literal,   // NULL (as a value in SET / VALUES)
};

enum class Op : std::uint8_t {
  none, eq, ne, lt, le, gt, ge, and_, or_, not_, add, sub, mul, div, neg,
  like, ilike, not_like, not_ilike, in, not_in, is_null, is_not_null, between, not_between,
  exists, not_exists, distinct_count
};

/// One node. Which fields matter depends on `kind` (see NodeKind).
struct Node {
  NodeKind kind = NodeKind::bind;
  Op op = Op::none;
  bool flag = false;
  ColumnType cast_type = ColumnType::text;
  const ColumnInfo* column = nullptr;
  std::string qualifier;
  std::string text;
  Value value;
  std::vector<NodePtr> args;
  SelectPtr select;
};

/// Builders used by the typed front (defined in src/sql/node.cpp).
NodePtr make_column(const ColumnInfo* c, std::string qualifier = {});
NodePtr make_bind(Value v);
NodePtr make_list_bind(std::vector<Value> items);
NodePtr make_unary(Op op, NodePtr x);
NodePtr make_binary(Op op, NodePtr l, NodePtr r);
NodePtr make_node(NodeKind k, Op op, std::vector<NodePtr> args, bool flag = false);
NodePtr make_func(std::string_view name, std::vector<NodePtr> args);
NodePtr make_select_node(NodeKind k, Op op, SelectPtr s, NodePtr lhs = nullptr);
NodePtr make_cast(NodePtr x, ColumnType t);
NodePtr make_label(NodePtr x, std::string_view name);
NodePtr make_named_column(SelectPtr sub, std::string_view sub_name, std::string_view column);

}  // namespace corm::sql::detail
