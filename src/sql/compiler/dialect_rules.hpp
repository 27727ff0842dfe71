#pragma once
// What differs between dialects in statement compilation, behind one small interface; the
// statement compilers (compile_*.cpp) are written once against it. One implementation per
// dialect: dialect_postgresql.cpp, dialect_sqlite.cpp.

#include <string>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/core/value.hpp"
#include "corm/sql/expression/node.hpp"
#include "corm/sql/statement/statement_core.hpp"

namespace corm::sql::detail {

class SqlWriter;

class DialectRules {
 public:
  virtual ~DialectRules() = default;
  /// The ONE parameter value an in_ list binds as (Array on PostgreSQL, JSON text on SQLite).
  /// Shared by the compiler and the cache-hit walk, so both bind the same value.
  virtual Value list_param(const Value& array) const = 0;
  /// `lhs [NOT] IN <list>` with the list as one parameter.
  virtual void in_list(SqlWriter& w, const Node& lhs, const Node& list, bool negated) const = 0;
  /// The LIKE keyword for op (ILIKE only where the dialect has it).
  virtual const char* like_keyword(Op op) const = 0;
  /// ` LIMIT ... OFFSET ...` (either may be null).
  virtual void limit_offset(SqlWriter& w, const NodePtr& limit, const NodePtr& offset) const = 0;
  /// ` FOR UPDATE ...` or nothing.
  virtual void for_update(SqlWriter& w, const ForUpdate& f) const = 0;
};

const DialectRules& rules_for(Dialect d);
const DialectRules& postgresql_rules();
const DialectRules& sqlite_rules();

}  // namespace corm::sql::detail
