// MySQL / MariaDB specifics of statement compilation.

#include "corm/core/error.hpp"
#include "corm/sql/schema/table_info.hpp"
#include "sql/compiler/dialect_rules.hpp"
#include "sql/compiler/sql_writer.hpp"

namespace corm::sql::detail {

namespace {
class MysqlRules final : public DialectRules {
 public:
  Value list_param(const Value&) const override {
    // Never reached: expands_lists() makes every caller bind the items one by one.
    throw UsageError("a list cannot be bound as one parameter on MySQL; compare with in_()");
  }

  bool expands_lists() const override { return true; }

  void in_list(SqlWriter& w, const Node& lhs, const Node& list, bool negated) const override {
    // No array parameter on MySQL: one `?` per item, so each list length is its own statement.
    const auto& items = std::get<Array>(list.value.storage()).items;
    if (items.empty()) {
      // `IN ()` is a syntax error. The left side is still written (its binds are counted by
      // the shape walk); an empty IN is false and an empty NOT IN true, NULL or not, as on
      // PostgreSQL.
      w.raw("(");
      w.expr(lhs, 5);
      w.raw(negated ? " IS NULL OR 1 = 1)" : " IS NULL AND 1 = 0)");
      return;
    }
    w.expr(lhs, 5);
    w.raw(negated ? " NOT IN (" : " IN (");
    w.expr(list);
    w.raw(")");
  }

  const char* like_keyword(Op op) const override {
    switch (op) {
      case Op::not_like: case Op::not_ilike: return "NOT LIKE";
      default: return "LIKE";
    }
  }

  // corm's tables use the binary utf8mb4 collation (byte-exact, like PostgreSQL), so LIKE is
  // case-sensitive and ILIKE folds both sides.
  bool case_folds_ilike() const override { return true; }

  bool wraps_limited_in_subquery() const override { return true; }

  bool emulates_nulls_order() const override { return true; }

  // MySQL's `/` always yields a DECIMAL; DIV truncates like integer `/` elsewhere.
  const char* integer_division() const override { return " DIV "; }

  void limit_offset(SqlWriter& w, const NodePtr& limit, const NodePtr& offset) const override {
    if (limit) {
      w.raw(" LIMIT ");
      w.expr(*limit);
    } else if (offset) {
      w.raw(" LIMIT 18446744073709551615");  // MySQL accepts OFFSET only after a LIMIT; this is "all"
    }
    if (offset) {
      w.raw(" OFFSET ");
      w.expr(*offset);
    }
  }

  void for_update(SqlWriter& w, const ForUpdate& f) const override {
    if (!f.enabled) return;
    // MariaDB has no `OF t`: the lock covers every table of the join (more than asked, never less).
    // MariaDB has no `FOR SHARE`; both servers take LOCK IN SHARE MODE (MySQL 8 only without
    // NOWAIT / SKIP LOCKED, which it wants after FOR SHARE).
    w.raw(f.share ? " LOCK IN SHARE MODE" : " FOR UPDATE");
    if (f.nowait) w.raw(" NOWAIT");
    else if (f.skip_locked) w.raw(" SKIP LOCKED");
  }

  void excluded(SqlWriter& w, const std::string& column) const override {
    // In ON DUPLICATE KEY UPDATE, VALUES(c) is the value the INSERT tried to write.
    w.raw("VALUES(");
    w.ident(column);
    w.raw(")");
  }

  void on_conflict(SqlWriter& w, const InsertCore& s) const override {
    const TableInfo& t = *s.table;
    if (s.conflict_where)
      throw UsageError("on_conflict_do_update(...).where(...) is not available on MySQL: ON DUPLICATE KEY UPDATE "
                       "has no WHERE; put the condition into the SET values (IF(cond, new, old))");
    // MySQL's upsert fires on any unique key, so the conflict target only documents intent.
    w.raw(" ON DUPLICATE KEY UPDATE ");
    if (s.conflict == Conflict::do_nothing) {
      // A no-op assignment: the row stays as it was and the statement reports 0 rows affected.
      // (INSERT IGNORE would also turn every other error into a warning.)
      if (t.primary_key.empty() && t.columns.empty())
        throw UsageError("on_conflict_do_nothing() on MySQL needs a column to assign to itself");
      const std::string& name = t.columns[t.primary_key.empty() ? 0 : t.primary_key[0]].name;
      w.ident(name);
      w.raw(" = ");
      w.ident(name);
      return;
    }
    const bool q = w.qualify;
    for (std::size_t i = 0; i < s.conflict_set.size(); ++i) {
      if (i) w.raw(", ");
      w.ident(t.columns[s.conflict_set[i].first].name);
      w.raw(" = ");
      w.expr(*s.conflict_set[i].second);
    }
    w.qualify = q;
  }

  void default_values(SqlWriter& w) const override { w.raw(" () VALUES ()"); }

  std::string cast_type(const SqlWriter&, ColumnType t) const override {
    // CAST on MySQL takes its own short list of target types, not column types.
    switch (t) {
      case ColumnType::boolean: case ColumnType::int16: case ColumnType::int32: case ColumnType::int64:
        return "SIGNED";
      case ColumnType::float32: case ColumnType::float64: return "DOUBLE";
      case ColumnType::text: case ColumnType::uuid: case ColumnType::json: return "CHAR";
      case ColumnType::bytes: return "BINARY";
      case ColumnType::timestamp: return "DATETIME(6)";
      case ColumnType::date: return "DATE";
      case ColumnType::decimal: return "DECIMAL(65,30)";
    }
    return "CHAR";
  }
};
}  // namespace

const DialectRules& mysql_rules() {
  static const MysqlRules r;
  return r;
}

}  // namespace corm::sql::detail
