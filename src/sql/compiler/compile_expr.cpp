// Expressions: operators with minimal parentheses, functions, casts, subquery expressions.

#include "corm/core/error.hpp"
#include "corm/sql/schema/ddl.hpp"
#include "corm/sql/schema/table_info.hpp"
#include "sql/compiler/sql_writer.hpp"

namespace corm::sql::detail {

namespace {
constexpr int prec_or = 1, prec_and = 2, prec_not = 3, prec_cmp = 4, prec_add = 5, prec_mul = 6, prec_neg = 7,
              prec_primary = 9;

const char* binary_sql(Op op) {
  switch (op) {
    case Op::eq: return " = ";
    case Op::ne: return " <> ";
    case Op::lt: return " < ";
    case Op::le: return " <= ";
    case Op::gt: return " > ";
    case Op::ge: return " >= ";
    case Op::and_: return " AND ";
    case Op::or_: return " OR ";
    case Op::add: return " + ";
    case Op::sub: return " - ";
    case Op::mul: return " * ";
    case Op::div: return " / ";
    default: break;
  }
  throw std::logic_error("corm: not a binary operator");
}

int binary_prec(Op op) {
  switch (op) {
    case Op::or_: return prec_or;
    case Op::and_: return prec_and;
    case Op::add: case Op::sub: return prec_add;
    case Op::mul: case Op::div: return prec_mul;
    default: return prec_cmp;
  }
}
}  // namespace

int precedence(const Node& n) {
  switch (n.kind) {
    case NodeKind::binary: return binary_prec(n.op);
    case NodeKind::unary: return n.op == Op::not_ ? prec_not : prec_neg;
    case NodeKind::is_null: case NodeKind::in_list: case NodeKind::in_select: case NodeKind::between:
    case NodeKind::like: return prec_cmp;
    case NodeKind::label: return precedence(*n.args[0]);
    default: return prec_primary;
  }
}

void SqlWriter::expr(const Node& n, int min_prec) {
  if (n.kind == NodeKind::label) {
    // A label names a select-list item; anywhere else the labelled expression stands alone.
    expr(*n.args[0], min_prec);
    return;
  }
  const int p = precedence(n);
  const bool paren = p < min_prec;
  if (paren) raw("(");
  switch (n.kind) {
    case NodeKind::column:
      if (qualify) {
        ident(n.qualifier.empty() ? n.column->table->name : n.qualifier);
        raw(".");
      }
      ident(n.column->name);
      break;
    case NodeKind::named_column:
      if (qualify) {
        ident(n.qualifier);
        raw(".");
      }
      ident(n.text);
      break;
    case NodeKind::excluded:
      rules.excluded(*this, n.column->name);
      break;
    case NodeKind::bind:
      bind(n.value);
      break;
    case NodeKind::list_bind:
      if (rules.expands_lists()) {
        const auto& items = std::get<Array>(n.value.storage()).items;
        for (std::size_t i = 0; i < items.size(); ++i) {
          if (i) raw(", ");
          bind(items[i]);
        }
      } else {
        bind(rules.list_param(n.value));
      }
      break;
    case NodeKind::null_literal:
      raw("NULL");
      break;
    case NodeKind::unary:
      if (n.op == Op::not_) {
        raw("NOT ");
        expr(*n.args[0], prec_primary);
      } else {
        raw("-");
        expr(*n.args[0], prec_primary);
      }
      break;
    case NodeKind::binary: {
      // Left operand binds at our precedence (left-associative); the right one one tighter,
      // except for the associative AND/OR chains. Comparisons never chain unparenthesised.
      const bool assoc = n.op == Op::and_ || n.op == Op::or_;
      expr(*n.args[0], p == prec_cmp ? p + 1 : p);
      raw(n.op == Op::div && n.flag ? rules.integer_division() : binary_sql(n.op));
      expr(*n.args[1], assoc ? p : p + 1);
      break;
    }
    case NodeKind::is_null:
      expr(*n.args[0], prec_add);
      raw(n.op == Op::is_null ? " IS NULL" : " IS NOT NULL");
      break;
    case NodeKind::in_list:
      rules.in_list(*this, *n.args[0], *n.args[1], n.op == Op::not_in);
      break;
    case NodeKind::in_select: {
      expr(*n.args[0], prec_add);
      raw(n.op == Op::not_in ? " NOT IN (" : " IN (");
      if (rules.wraps_limited_in_subquery() && (n.select->limit || n.select->offset)) {
        raw("SELECT * FROM (");
        select(*n.select);
        raw(") AS ");
        ident("corm_in");
      } else {
        select(*n.select);
      }
      raw(")");
      break;
    }
    case NodeKind::between:
      expr(*n.args[0], prec_add);
      raw(" BETWEEN ");
      expr(*n.args[1], prec_add);
      raw(" AND ");
      expr(*n.args[2], prec_add);
      break;
    case NodeKind::like:
      if ((n.op == Op::ilike || n.op == Op::not_ilike) && rules.case_folds_ilike()) {
        raw("LOWER(");
        expr(*n.args[0]);
        raw(") ");
        raw(rules.like_keyword(n.op));
        raw(" LOWER(");
        expr(*n.args[1]);
        raw(")");
      } else {
        expr(*n.args[0], prec_add);
        raw(" ");
        raw(rules.like_keyword(n.op));
        raw(" ");
        expr(*n.args[1], prec_add);
      }
      if (n.flag) raw(" ESCAPE '\\'");
      break;
    case NodeKind::func:
      raw(n.text);
      raw("(");
      if (n.op == Op::distinct_count) raw("DISTINCT ");
      for (std::size_t i = 0; i < n.args.size(); ++i) {
        if (i) raw(", ");
        expr(*n.args[i]);
      }
      raw(")");
      break;
    case NodeKind::count_star:
      raw("count(*)");
      break;
    case NodeKind::now:
      raw("CURRENT_TIMESTAMP");
      break;
    case NodeKind::cast:
      raw("CAST(");
      expr(*n.args[0]);
      raw(" AS ");
      raw(rules.cast_type(*this, n.cast_type));
      raw(")");
      break;
    case NodeKind::scalar_select:
      raw("(");
      select(*n.select);
      raw(")");
      break;
    case NodeKind::exists:
      raw(n.op == Op::not_exists ? "NOT EXISTS (" : "EXISTS (");
      select(*n.select);
      raw(")");
      break;
    case NodeKind::label:
      break;
  }
  if (paren) raw(")");
}

void SqlWriter::select_item(const Node& n) {
  if (n.kind == NodeKind::label) {
    expr(*n.args[0]);
    raw(" AS ");
    ident(n.text);
  } else {
    expr(n);
  }
}

}  // namespace corm::sql::detail
