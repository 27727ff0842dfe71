// Names of the sql layer's enums, and the exceptions the header templates raise (kept out of
// line so the messages live in one place and the headers stay small).

#include <string>

#include "corm/core/error.hpp"
#include "corm/sql/schema/column_options.hpp"
#include "corm/sql/schema/column_type.hpp"
#include "corm/sql/schema/relationship.hpp"
#include "corm/sql/schema/relationship_hook.hpp"
#include "corm/sql/statement/returning.hpp"
#include "corm/sql/statement/select.hpp"

namespace corm {

std::string_view column_type_name(ColumnType t) noexcept {
  switch (t) {
    case ColumnType::boolean: return "bool";
    case ColumnType::int16: return "int16";
    case ColumnType::int32: return "int32";
    case ColumnType::int64: return "int64";
    case ColumnType::float32: return "float32";
    case ColumnType::float64: return "float64";
    case ColumnType::text: return "text";
    case ColumnType::bytes: return "bytes";
    case ColumnType::timestamp: return "timestamp";
    case ColumnType::date: return "date";
    case ColumnType::decimal: return "decimal";
    case ColumnType::uuid: return "uuid";
    case ColumnType::json: return "json";
  }
  return "?";
}

std::string_view fk_action_sql(FkAction a) noexcept {
  switch (a) {
    case FkAction::no_action: return "NO ACTION";
    case FkAction::restrict: return "RESTRICT";
    case FkAction::cascade: return "CASCADE";
    case FkAction::set_null: return "SET NULL";
    case FkAction::set_default: return "SET DEFAULT";
  }
  return "NO ACTION";
}

std::string_view loader_strategy_name(LoaderStrategy s) noexcept {
  switch (s) {
    case LoaderStrategy::lazy: return "lazy";
    case LoaderStrategy::selectin: return "selectin";
    case LoaderStrategy::joined: return "joined";
    case LoaderStrategy::subquery: return "subquery";
    case LoaderStrategy::raise: return "raise";
    case LoaderStrategy::noload: return "noload";
  }
  return "?";
}

namespace detail {

void throw_unloaded_relationship(const char* holder_kind) {
  throw UsageError(std::string("a ") + holder_kind +
                   " relationship was read before it was loaded, and no session is attached to load "
                   "it. Load it eagerly in the query (selectinload / joinedload), assign it, or read "
                   "is_loaded() / peek() first");
}

void throw_unmapped_member(std::string_view table) {
  throw ConfigError("a member pointer names a member of the model mapped to table '" + std::string(table) +
                    "' that is not mapped as a column or relationship; add it to the model's "
                    "corm::table(...) or use a mapped member");
}

void rethrow_column_decode_error(std::string_view table, std::string_view column) {
  try {
    throw;
  } catch (const DataError& e) {
    std::string msg;
    msg.reserve(table.size() + column.size() + 16 + std::char_traits<char>::length(e.what()));
    msg.append("reading ").append(table).append(".").append(column).append(" from ").append(e.what());
    throw DataError(msg, e.detail());
  }
}

}  // namespace detail

namespace sql::detail {

void throw_compound_member_clause() {
  throw UsageError("a select inside UNION cannot have its own ORDER BY, LIMIT, OFFSET or FOR UPDATE "
                   "(SQLite rejects it); put order_by/limit/offset on the union itself");
}

void throw_insert_shape_mismatch(const std::string& table) {
  throw UsageError("the rows of one INSERT into '" + table +
                   "' set different columns; give every row the same columns (or insert them "
                   "separately)");
}

void throw_conflict_usage(const char* what) {
  throw UsageError(std::string(what) +
                   "() needs a conflict target first: call on_conflict(&T::unique_member) before it");
}

}  // namespace sql::detail
}  // namespace corm
