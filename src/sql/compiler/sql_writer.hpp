#pragma once
// SqlWriter: builds one statement's SQL text and parameter list for a dialect. Runs only on a
// compiled-cache miss; the hit path is shape_key.cpp, which must visit binds in the same order
// (checked on every miss, see compile_cache.cpp).

#include <string>
#include <string_view>
#include <vector>

#include "sql/compiler/dialect_rules.hpp"
#include "corm/core/dialect.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"

namespace corm::sql::detail {

class SqlWriter {
 public:
  explicit SqlWriter(Dialect d) : dialect(d), rules(rules_for(d)) {}

  Dialect dialect;
  const DialectRules& rules;
  std::string sql;
  std::vector<Value> params;
  /// Qualify column references with their table ("books"."id"). Off in SET targets,
  /// RETURNING and a compound's ORDER BY, where only bare names are allowed.
  bool qualify = true;
  /// FROM items of the enclosing statements (for correlated subqueries).
  std::vector<FromItem> scope;

  void raw(std::string_view s) { sql += s; }
  void ident(std::string_view name) { sql += quote_identifier(dialect, name); }
  void bind(Value v) {
    params.push_back(std::move(v));
    append_placeholder(sql, dialect, params.size());
  }

  /// An expression; parenthesised when its precedence is below `min_prec`.
  void expr(const Node& n, int min_prec = 0);
  void expr(const NodePtr& n, int min_prec = 0) { expr(*n, min_prec); }
  /// A select-list / RETURNING item: labels render as `x AS "name"`.
  void select_item(const Node& n);
  /// A whole SELECT (or compound), no surrounding parentheses.
  void select(const SelectCore& s);
  void insert(const InsertCore& s);
  void update(const UpdateCore& s);
  void delete_(const DeleteCore& s);

 private:
  void from_item(const FromItem& f);
  void order_by(const std::vector<OrderTerm>& terms);
  void returning(const std::vector<NodePtr>& items);
  void plain_select(const SelectCore& s);
};

/// Precedence of a node as an operand (higher binds tighter).
int precedence(const Node& n);

}  // namespace corm::sql::detail
