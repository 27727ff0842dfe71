// SQLite specifics of statement compilation.

#include <boost/json.hpp>

#include "core/temporal.hpp"
#include "corm/core/error.hpp"
#include "sql/compiler/dialect_rules.hpp"
#include "sql/compiler/sql_writer.hpp"

namespace corm::sql::detail {

namespace {
boost::json::value to_json(const Value& v) {
  return std::visit(
      [](const auto& x) -> boost::json::value {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Null>) return nullptr;
        else if constexpr (std::is_same_v<T, bool>) return x ? 1 : 0;  // SQLite stores booleans as 0/1
        else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) return x;
        else if constexpr (std::is_same_v<T, std::string>) return boost::json::string(x);
        // The same text the SQLite driver binds these types as, so IN compares like `=` does.
        else if constexpr (std::is_same_v<T, Timestamp>) return boost::json::string(corm::detail::format_timestamp(x));
        else if constexpr (std::is_same_v<T, Date>) return boost::json::string(corm::detail::format_date(x));
        else if constexpr (std::is_same_v<T, Decimal>) return boost::json::string(x.str());
        else if constexpr (std::is_same_v<T, Uuid>) return boost::json::string(x.str());
        else if constexpr (std::is_same_v<T, Json>) return boost::json::string(x.text);
        else
          throw UsageError(std::string("in_() on SQLite binds the list as JSON, which cannot carry ") +
                           std::string(Value(x).type_name()) + " values; compare them with == joined by ||");
      },
      v.storage());
}

class SqliteRules final : public DialectRules {
 public:
  Value list_param(const Value& array) const override {
    boost::json::array out;
    for (const Value& item : std::get<Array>(array.storage()).items) out.push_back(to_json(item));
    return Value(boost::json::serialize(out));
  }

  void in_list(SqlWriter& w, const Node& lhs, const Node& list, bool negated) const override {
    // SQLite has no array parameter; json_each turns one JSON-array parameter into rows, so the
    // text is the same for any list length, as on PostgreSQL.
    w.expr(lhs, 5);
    w.raw(negated ? " NOT IN (SELECT value FROM json_each(" : " IN (SELECT value FROM json_each(");
    w.bind(list_param(list.value));
    w.raw("))");
  }

  const char* like_keyword(Op op) const override {
    // SQLite's LIKE is already case-insensitive for ASCII: ILIKE is LIKE here.
    switch (op) {
      case Op::not_like: case Op::not_ilike: return "NOT LIKE";
      default: return "LIKE";
    }
  }

  void limit_offset(SqlWriter& w, const NodePtr& limit, const NodePtr& offset) const override {
    if (limit) {
      w.raw(" LIMIT ");
      w.expr(*limit);
    } else if (offset) {
      w.raw(" LIMIT -1");  // SQLite accepts OFFSET only after a LIMIT; -1 means none
    }
    if (offset) {
      w.raw(" OFFSET ");
      w.expr(*offset);
    }
  }

  void for_update(SqlWriter&, const ForUpdate&) const override {
    // No row locks in SQLite: a write transaction locks the whole database, so FOR UPDATE has
    // nothing to add (and is a syntax error there).
  }
};
}  // namespace

const DialectRules& sqlite_rules() {
  static const SqliteRules r;
  return r;
}

}  // namespace corm::sql::detail
