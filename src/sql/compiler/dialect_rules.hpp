#pragma once
// What differs between dialects in statement compilation, behind one small interface; the
// statement compilers (compile_*.cpp) are written once against it. One implementation per
// dialect: dialect_postgresql.cpp, dialect_sqlite.cpp, dialect_mysql.cpp. What a dialect merely
// supports or not is in corm::dialect_traits().

#include <string>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/sql/schema/column_type.hpp"
#include "corm/core/value.hpp"
#include "corm/sql/expression/node.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"

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
  /// The operator of a division of two integers (node flag set): truncating on every database.
  virtual const char* integer_division() const { return " / "; }
  /// True when NULLS FIRST / LAST is written as a leading `x IS NULL` sort key (no such syntax):
  /// the term's expression then appears, and binds its values, twice.
  virtual bool emulates_nulls_order() const { return false; }
  /// True when ILIKE is written as `LOWER(x) LIKE LOWER(p)` (no ILIKE, case-sensitive LIKE).
  virtual bool case_folds_ilike() const { return false; }
  /// True when a subquery of [NOT] IN may not have LIMIT / OFFSET (MySQL rejects it: "doesn't
  /// yet support 'LIMIT & IN/ALL/ANY/SOME subquery'") but a derived table may: a limited one is
  /// written `IN (SELECT * FROM (<subquery>) AS corm_in)`, same rows and the same binds.
  virtual bool wraps_limited_in_subquery() const { return false; }
  /// ` LIMIT ... OFFSET ...` (either may be null).
  virtual void limit_offset(SqlWriter& w, const NodePtr& limit, const NodePtr& offset) const = 0;
  /// ` FOR UPDATE ...` or nothing.
  virtual void for_update(SqlWriter& w, const ForUpdate& f) const = 0;

  /// True when a list binds one parameter per item (`IN (?, ?, ?)`) instead of list_param():
  /// the SQL text then depends on the list's length, which the shape key records.
  virtual bool expands_lists() const { return false; }
  /// The column of the row an upsert tried to insert, in its SET clause (`excluded."c"`).
  virtual void excluded(SqlWriter& w, const std::string& column) const;
  /// The upsert clause of an INSERT whose `conflict` is not none (`ON CONFLICT …`).
  virtual void on_conflict(SqlWriter& w, const InsertCore& s) const;
  /// An INSERT of one row with every column defaulted, after the table name.
  virtual void default_values(SqlWriter& w) const;
  /// The type name CAST(x AS …) takes.
  virtual std::string cast_type(const SqlWriter& w, ColumnType t) const;
};

const DialectRules& rules_for(Dialect d);
const DialectRules& postgresql_rules();
const DialectRules& sqlite_rules();
const DialectRules& mysql_rules();

}  // namespace corm::sql::detail
