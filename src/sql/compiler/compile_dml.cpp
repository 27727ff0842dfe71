// INSERT (with ON CONFLICT), UPDATE, DELETE, RETURNING.

#include "corm/core/error.hpp"
#include "corm/sql/schema/ddl.hpp"
#include "corm/sql/schema/table_info.hpp"
#include "sql/compiler/sql_writer.hpp"

namespace corm::sql::detail {

// The SQL-standard-ish spellings PostgreSQL and SQLite share; a dialect that differs overrides.
void DialectRules::excluded(SqlWriter& w, const std::string& column) const {
  w.raw("excluded.");
  w.ident(column);
}

void DialectRules::default_values(SqlWriter& w) const { w.raw(" DEFAULT VALUES"); }

std::string DialectRules::cast_type(const SqlWriter& w, ColumnType t) const { return sql_type_name(w.dialect, t); }

void DialectRules::on_conflict(SqlWriter& w, const InsertCore& s) const {
  const TableInfo& t = *s.table;
  w.raw(" ON CONFLICT");
  if (!s.conflict_target.empty()) {
    w.raw(" (");
    for (std::size_t i = 0; i < s.conflict_target.size(); ++i) {
      if (i) w.raw(", ");
      w.ident(t.columns[s.conflict_target[i]].name);
    }
    w.raw(")");
  }
  if (s.conflict == Conflict::do_nothing) {
    w.raw(" DO NOTHING");
    return;
  }
  w.raw(" DO UPDATE SET ");
  for (std::size_t i = 0; i < s.conflict_set.size(); ++i) {
    if (i) w.raw(", ");
    w.ident(t.columns[s.conflict_set[i].first].name);
    w.raw(" = ");
    w.expr(*s.conflict_set[i].second);
  }
  if (s.conflict_where) {
    w.raw(" WHERE ");
    w.expr(*s.conflict_where);
  }
}

void SqlWriter::returning(const std::vector<NodePtr>& items) {
  if (items.empty()) return;
  // SQLite's RETURNING takes bare column names only; PostgreSQL accepts them too.
  const bool q = qualify;
  qualify = false;
  raw(" RETURNING ");
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) raw(", ");
    select_item(*items[i]);
  }
  qualify = q;
}

void SqlWriter::insert(const InsertCore& s) {
  const TableInfo& t = *s.table;
  raw("INSERT INTO ");
  ident(t.name);
  if (s.rows.empty()) throw UsageError("insert<" + t.name + ">() has no rows; add them with values(...)");
  if (s.columns.empty()) {
    if (s.rows.size() > 1)
      throw UsageError("an INSERT into '" + t.name + "' with no columns can add only one row (DEFAULT VALUES)");
    rules.default_values(*this);
  } else {
    raw(" (");
    for (std::size_t i = 0; i < s.columns.size(); ++i) {
      if (i) raw(", ");
      ident(t.columns[s.columns[i]].name);
    }
    raw(") VALUES ");
    for (std::size_t r = 0; r < s.rows.size(); ++r) {
      if (r) raw(", ");
      raw("(");
      for (std::size_t i = 0; i < s.rows[r].size(); ++i) {
        if (i) raw(", ");
        expr(*s.rows[r][i]);
      }
      raw(")");
    }
  }
  if (s.conflict != Conflict::none) rules.on_conflict(*this, s);
  returning(s.returning);
}

void SqlWriter::update(const UpdateCore& s) {
  const TableInfo& t = *s.table;
  if (s.set.empty()) throw UsageError("update<" + t.name + ">() sets no column; add set(&T::member, value)");
  raw("UPDATE ");
  ident(t.name);
  raw(" SET ");
  for (std::size_t i = 0; i < s.set.size(); ++i) {
    if (i) raw(", ");
    ident(t.columns[s.set[i].first].name);
    raw(" = ");
    expr(*s.set[i].second);
  }
  if (s.where) {
    raw(" WHERE ");
    expr(*s.where);
  }
  if (!s.returning.empty() && !dialect_traits(dialect).supports_update_returning)
    throw UsageError("UPDATE ... RETURNING is not available on " + std::string(dialect_name(dialect)) +
                     "; run the UPDATE, then SELECT the rows it changed");
  returning(s.returning);
}

void SqlWriter::delete_(const DeleteCore& s) {
  raw("DELETE FROM ");
  ident(s.table->name);
  if (s.where) {
    raw(" WHERE ");
    expr(*s.where);
  }
  returning(s.returning);
}

}  // namespace corm::sql::detail
