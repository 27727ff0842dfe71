// PostgreSQL specifics of statement compilation.

#include "corm/sql/schema/table_info.hpp"
#include "sql/compiler/dialect_rules.hpp"
#include "sql/compiler/sql_writer.hpp"

namespace corm::sql::detail {

namespace {
class PostgresRules final : public DialectRules {
 public:
  Value list_param(const Value& array) const override { return array; }

  void in_list(SqlWriter& w, const Node& lhs, const Node& list, bool negated) const override {
    // One array parameter: the text is the same for any list length (and an empty list is
    // simply false / true), so every call shares one compiled and prepared statement.
    w.expr(lhs, 5);
    w.raw(negated ? " <> ALL(" : " = ANY(");
    w.bind(list_param(list.value));
    w.raw(")");
  }

  const char* like_keyword(Op op) const override {
    switch (op) {
      case Op::ilike: return "ILIKE";
      case Op::not_ilike: return "NOT ILIKE";
      case Op::not_like: return "NOT LIKE";
      default: return "LIKE";
    }
  }

  void limit_offset(SqlWriter& w, const NodePtr& limit, const NodePtr& offset) const override {
    if (limit) {
      w.raw(" LIMIT ");
      w.expr(*limit);
    }
    if (offset) {
      w.raw(" OFFSET ");
      w.expr(*offset);
    }
  }

  void for_update(SqlWriter& w, const ForUpdate& f) const override {
    if (!f.enabled) return;
    w.raw(f.share ? " FOR SHARE" : " FOR UPDATE");
    if (!f.of.empty()) {
      w.raw(" OF ");
      for (std::size_t i = 0; i < f.of.size(); ++i) {
        if (i) w.raw(", ");
        w.ident(f.of[i].alias.empty() ? f.of[i].table->name : f.of[i].alias);
      }
    }
    if (f.nowait) w.raw(" NOWAIT");
    else if (f.skip_locked) w.raw(" SKIP LOCKED");
  }
};
}  // namespace

const DialectRules& postgresql_rules() {
  static const PostgresRules r;
  return r;
}

const DialectRules& rules_for(Dialect d) {
  switch (d) {
    case Dialect::postgresql: return postgresql_rules();
    case Dialect::mysql: return mysql_rules();
    case Dialect::sqlite: break;
  }
  return sqlite_rules();
}

}  // namespace corm::sql::detail
