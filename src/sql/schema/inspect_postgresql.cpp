// PostgreSQL introspection of the current schema: pg_catalog for tables, constraints and
// indexes, information_schema for columns. Every catalog value is cast to a plain type (text,
// int) so the decoders never meet `name` or information_schema domains; column lists come back
// as JSON arrays so names holding commas or quotes survive.

#include <cctype>
#include <cstdio>

#include <boost/json.hpp>

#include "sql/schema/inspect_state.hpp"

namespace corm::sql::detail {

namespace {

DriverQuery q(std::string sql, std::vector<Value> params = {}) { return DriverQuery{std::move(sql), std::move(params)}; }

std::vector<std::string> json_names(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  if (!text) return out;
  boost::json::value v = boost::json::parse(*text);
  for (const auto& e : v.as_array()) out.emplace_back(e.as_string().c_str(), e.as_string().size());
  return out;
}

FkAction action(const std::string& code) {
  if (code == "r") return FkAction::restrict;
  if (code == "c") return FkAction::cascade;
  if (code == "n") return FkAction::set_null;
  if (code == "d") return FkAction::set_default;
  return FkAction::no_action;
}

// 'draft'::character varying → 'draft';  ('x'::text) stays as the server wrote it otherwise.
std::string strip_casts(std::string s) {
  for (;;) {
    auto p = s.rfind("::");
    if (p == std::string::npos) return s;
    std::string_view tail(s.data() + p + 2, s.size() - p - 2);
    bool type_name = !tail.empty();
    for (char c : tail) type_name = type_name && (std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_');
    if (!type_name) return s;
    s.resize(p);
  }
}

void type_of(const std::string& data_type, const std::optional<std::int64_t>& max_len,
             const std::optional<std::int64_t>& precision, const std::optional<std::int64_t>& scale, ColumnSchema& c) {
  if (data_type == "boolean") c.type = ColumnType::boolean;
  else if (data_type == "smallint") c.type = ColumnType::int16;
  else if (data_type == "integer") c.type = ColumnType::int32;
  else if (data_type == "bigint") c.type = ColumnType::int64;
  else if (data_type == "real") c.type = ColumnType::float32;
  else if (data_type == "double precision") c.type = ColumnType::float64;
  else if (data_type == "character varying" || data_type == "character") {
    c.type = ColumnType::text;
    c.max_length = static_cast<int>(max_len.value_or(0));
  } else if (data_type == "bytea") c.type = ColumnType::bytes;
  else if (data_type.rfind("timestamp", 0) == 0) c.type = ColumnType::timestamp;
  else if (data_type == "date") c.type = ColumnType::date;
  else if (data_type == "numeric") {
    c.type = ColumnType::decimal;
    c.precision = static_cast<int>(precision.value_or(0));
    c.scale = c.precision > 0 ? static_cast<int>(scale.value_or(0)) : 0;
  } else if (data_type == "uuid") c.type = ColumnType::uuid;
  else if (data_type == "json" || data_type == "jsonb") c.type = ColumnType::json;
  else c.type = ColumnType::text;
}

Value names_param(const InspectPlan::State& s) {
  std::vector<Value> items;
  for (const auto& [name, t] : s.tables) items.emplace_back(name);
  return Value(Array{std::move(items)});
}

void inspect_details(InspectPlan::State& s) {
  if (s.tables.empty()) return;
  s.steps.push_back({q("SELECT table_name::text, column_name::text, data_type::text, character_maximum_length::int8, "
                       "numeric_precision::int8, numeric_scale::int8, is_nullable::text = 'YES', column_default::text, "
                       "is_identity::text = 'YES' FROM information_schema.columns "
                       "WHERE table_schema = current_schema() AND table_name::text = ANY($1::text[]) "
                       "ORDER BY table_name, ordinal_position",
                       {names_param(s)}),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         ColumnSchema c;
                         c.name = row.get<std::string>(1);
                         type_of(row.get<std::string>(2), row.get<std::optional<std::int64_t>>(3),
                                 row.get<std::optional<std::int64_t>>(4), row.get<std::optional<std::int64_t>>(5), c);
                         c.nullable = row.get<bool>(6);
                         auto def = row.get<std::optional<std::string>>(7);
                         if (def) c.server_default = strip_casts(*def);
                         c.identity = row.get<bool>(8);
                         s.tables[row.get<std::string>(0)].columns.push_back(std::move(c));
                       }
                     }});
  static const char* cols_of =
      "(SELECT json_agg(a.attname::text ORDER BY k.ord) FROM unnest(%s) WITH ORDINALITY k(attnum, ord) "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = %s AND a.attnum = k.attnum)::text";
  auto cols = [](const char* arr, const char* rel) {
    char buf[512];
    std::snprintf(buf, sizeof buf, cols_of, arr, rel);
    return std::string(buf);
  };
  s.steps.push_back({q("SELECT cl.relname::text, con.conname::text, con.contype::text, " + cols("con.conkey", "con.conrelid") +
                       ", rcl.relname::text, " + cols("con.confkey", "con.confrelid") +
                       ", con.confdeltype::text, con.confupdtype::text, "
                       "CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_constraintdef(con.oid) END "
                       "FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class cl ON cl.oid = con.conrelid "
                       "JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace "
                       "LEFT JOIN pg_catalog.pg_class rcl ON rcl.oid = con.confrelid "
                       "WHERE n.nspname = current_schema() AND cl.relname::text = ANY($1::text[]) "
                       "AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY 1, 2",
                       {names_param(s)}),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         TableSchema& t = s.tables[row.get<std::string>(0)];
                         std::string name = row.get<std::string>(1);
                         std::string type = row.get<std::string>(2);
                         auto columns = json_names(row.get<std::optional<std::string>>(3));
                         if (type == "p") {
                           t.primary_key = std::move(columns);
                         } else if (type == "u") {
                           t.uniques.push_back(UniqueSchema{name, std::move(columns)});
                         } else if (type == "f") {
                           ForeignKeySchema fk;
                           fk.name = name;
                           fk.columns = std::move(columns);
                           fk.referred_table = row.get<std::string>(4);
                           fk.referred_columns = json_names(row.get<std::optional<std::string>>(5));
                           fk.on_delete = action(row.get<std::string>(6));
                           fk.on_update = action(row.get<std::string>(7));
                           t.foreign_keys.push_back(std::move(fk));
                         } else {
                           t.checks.push_back(CheckSchema{name, row.get<std::optional<std::string>>(8).value_or("")});
                         }
                       }
                     }});
  s.steps.push_back({q("SELECT t.relname::text, i.relname::text, ix.indisunique, ix.indnkeyatts::int8, " +
                       cols("ix.indkey::int2[]", "t.oid") +
                       " FROM pg_catalog.pg_index ix JOIN pg_catalog.pg_class t ON t.oid = ix.indrelid "
                       "JOIN pg_catalog.pg_class i ON i.oid = ix.indexrelid "
                       "JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
                       "WHERE n.nspname = current_schema() AND t.relname::text = ANY($1::text[]) "
                       "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = ix.indexrelid "
                       "AND c.conrelid = ix.indrelid AND c.contype IN ('p', 'u', 'x')) ORDER BY 1, 2",
                       {names_param(s)}),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         IndexSchema ix;
                         ix.name = row.get<std::string>(1);
                         ix.unique = row.get<bool>(2);
                         auto keys = static_cast<std::size_t>(row.get<std::int64_t>(3));
                         auto all = json_names(row.get<std::optional<std::string>>(4));
                         for (std::size_t i = 0; i < all.size(); ++i) (i < keys ? ix.columns : ix.include).push_back(all[i]);
                         s.tables[row.get<std::string>(0)].indexes.push_back(std::move(ix));
                       }
                     }});
}

}  // namespace

void start_postgresql_inspection(InspectPlan::State& s) {
  s.steps.push_back({q("SELECT c.relname::text FROM pg_catalog.pg_class c "
                       "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 1"),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         std::string name = row.get<std::string>(0);
                         if (s.wanted(name)) s.tables[name].name = name;
                       }
                       inspect_details(s);
                     }});
}

}  // namespace corm::sql::detail
