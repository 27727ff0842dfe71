// MySQL / MariaDB introspection of the current database (DATABASE()) from information_schema.
// Every query filters on the schema only; the tables wanted are picked here, so no list is bound.
// What MySQL adds on its own is left out: the index it creates for each foreign key (named after
// the constraint) and MariaDB's json_valid() CHECK on a JSON column (which marks the column JSON).

#include <cctype>
#include <string>

#include "sql/schema/inspect_state.hpp"

namespace corm::sql::detail {

namespace {

DriverQuery q(std::string sql) { return DriverQuery{std::move(sql), {}}; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Numbers inside the parentheses of "decimal(12,2)" / "varchar(100)".
std::vector<int> type_args(const std::string& column_type) {
  std::vector<int> out;
  const auto open = column_type.find('(');
  if (open == std::string::npos) return out;
  int v = 0;
  bool in_number = false;
  for (std::size_t i = open + 1; i < column_type.size() && column_type[i] != ')'; ++i) {
    const char c = column_type[i];
    if (c >= '0' && c <= '9') {
      v = v * 10 + (c - '0');
      in_number = true;
    } else if (in_number) {
      out.push_back(v);
      v = 0;
      in_number = false;
    }
  }
  if (in_number) out.push_back(v);
  return out;
}

// COLUMN_TYPE ("tinyint(1)", "varchar(100)", "decimal(65,30)") → the ColumnType corm's DDL
// writes for it (src/sql/schema/ddl.cpp, mysql_type_name).
void type_of(const std::string& data_type, const std::string& column_type, ColumnSchema& c) {
  const std::string t = lower(data_type);
  const std::string full = lower(column_type);
  const std::vector<int> args = type_args(full);
  if (t == "tinyint" && full.rfind("tinyint(1)", 0) == 0) c.type = ColumnType::boolean;
  else if (t == "tinyint" || t == "smallint") c.type = ColumnType::int16;
  else if (t == "mediumint" || t == "int") c.type = ColumnType::int32;
  else if (t == "bigint") c.type = ColumnType::int64;
  else if (t == "float") c.type = ColumnType::float32;
  else if (t == "double") c.type = ColumnType::float64;
  else if (t == "char" && !args.empty() && args[0] == 36) c.type = ColumnType::uuid;
  else if (t == "varchar" || t == "char") {
    c.type = ColumnType::text;
    c.max_length = args.empty() ? 0 : args[0];
  } else if (t == "varbinary" || t == "binary") {
    c.type = ColumnType::bytes;
    c.max_length = args.empty() ? 0 : args[0];
  } else if (t.find("blob") != std::string::npos) c.type = ColumnType::bytes;
  else if (t == "datetime" || t == "timestamp") c.type = ColumnType::timestamp;
  else if (t == "date") c.type = ColumnType::date;
  else if (t == "decimal") {
    c.type = ColumnType::decimal;
    // DECIMAL(65,30) is what corm writes for a Decimal declared without precision.
    const bool unbounded = args.size() == 2 && args[0] == 65 && args[1] == 30;
    c.precision = unbounded || args.empty() ? 0 : args[0];
    c.scale = unbounded || args.size() < 2 ? 0 : args[1];
  } else if (t == "json") c.type = ColumnType::json;
  else c.type = ColumnType::text;
}

// InnoDB checks NO ACTION immediately, exactly as RESTRICT, and reports it as RESTRICT; both read
// back as no_action so a declared NO ACTION (the default) does not look changed.
FkAction action(const std::string& rule) {
  return rule == "RESTRICT" ? FkAction::no_action : parse_fk_action(rule);
}

void inspect_details(InspectPlan::State& s) {
  if (s.tables.empty()) return;
  s.steps.push_back({q("SELECT table_name, column_name, data_type, column_type, is_nullable = 'YES', column_default, "
                       "extra LIKE '%auto_increment%' FROM information_schema.columns "
                       "WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position"),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         const std::string table = row.get<std::string>(0);
                         auto it = s.tables.find(table);
                         if (it == s.tables.end()) continue;
                         ColumnSchema c;
                         c.name = row.get<std::string>(1);
                         type_of(row.get<std::string>(2), row.get<std::string>(3), c);
                         c.nullable = row.get<bool>(4);
                         // MariaDB reports "NULL" for a column without a default.
                         auto def = row.get<std::optional<std::string>>(5);
                         if (def && *def != "NULL") c.server_default = *def;
                         c.identity = row.get<bool>(6);
                         it->second.columns.push_back(std::move(c));
                       }
                     }});
  s.steps.push_back({q("SELECT tc.table_name, tc.constraint_name, tc.constraint_type, k.column_name, "
                       "k.referenced_table_name, k.referenced_column_name "
                       "FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k "
                       "ON k.constraint_schema = tc.constraint_schema AND k.table_name = tc.table_name "
                       "AND k.constraint_name = tc.constraint_name "
                       "WHERE tc.table_schema = DATABASE() AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE', "
                       "'FOREIGN KEY') ORDER BY tc.table_name, tc.constraint_name, k.ordinal_position"),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         auto it = s.tables.find(row.get<std::string>(0));
                         if (it == s.tables.end()) continue;
                         TableSchema& t = it->second;
                         const std::string name = row.get<std::string>(1);
                         const std::string type = row.get<std::string>(2);
                         const std::string column = row.get<std::string>(3);
                         if (type == "PRIMARY KEY") {
                           t.primary_key.push_back(column);
                         } else if (type == "UNIQUE") {
                           // MySQL keeps no difference between a unique constraint and a unique
                           // index; corm names its unique indexes ix_*, so those stay indexes.
                           if (name.rfind("ix_", 0) == 0) continue;
                           if (t.uniques.empty() || t.uniques.back().name != name) t.uniques.push_back(UniqueSchema{name, {}});
                           t.uniques.back().columns.push_back(column);
                         } else {
                           if (t.foreign_keys.empty() || t.foreign_keys.back().name != name) {
                             ForeignKeySchema fk;
                             fk.name = name;
                             fk.referred_table = row.get<std::optional<std::string>>(4).value_or("");
                             t.foreign_keys.push_back(std::move(fk));
                           }
                           t.foreign_keys.back().columns.push_back(column);
                           t.foreign_keys.back().referred_columns.push_back(
                               row.get<std::optional<std::string>>(5).value_or(""));
                         }
                       }
                     }});
  s.steps.push_back({q("SELECT table_name, constraint_name, delete_rule, update_rule "
                       "FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE()"),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         auto it = s.tables.find(row.get<std::string>(0));
                         if (it == s.tables.end()) continue;
                         for (ForeignKeySchema& fk : it->second.foreign_keys) {
                           if (fk.name != row.get<std::string>(1)) continue;
                           fk.on_delete = action(row.get<std::string>(2));
                           fk.on_update = action(row.get<std::string>(3));
                         }
                       }
                     }});
  s.steps.push_back({q("SELECT table_name, index_name, non_unique = 0, column_name FROM information_schema.statistics "
                       "WHERE table_schema = DATABASE() AND index_name <> 'PRIMARY' "
                       "ORDER BY table_name, index_name, seq_in_index"),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         auto it = s.tables.find(row.get<std::string>(0));
                         if (it == s.tables.end()) continue;
                         TableSchema& t = it->second;
                         const std::string name = row.get<std::string>(1);
                         const bool unique = row.get<bool>(2);
                         // Indexes backing a unique constraint or a foreign key are not indexes
                         // of their own in corm's schema.
                         bool backing = false;
                         for (const UniqueSchema& u : t.uniques) backing = backing || u.name == name;
                         for (const ForeignKeySchema& f : t.foreign_keys) backing = backing || f.name == name;
                         if (backing) continue;
                         if (t.indexes.empty() || t.indexes.back().name != name) {
                           IndexSchema ix;
                           ix.name = name;
                           ix.unique = unique;
                           t.indexes.push_back(std::move(ix));
                         }
                         t.indexes.back().columns.push_back(row.get<std::string>(3));
                       }
                     }});
  s.steps.push_back({q("SELECT tc.table_name, cc.constraint_name, cc.check_clause "
                       "FROM information_schema.check_constraints cc JOIN information_schema.table_constraints tc "
                       "ON tc.constraint_schema = cc.constraint_schema AND tc.constraint_name = cc.constraint_name "
                       "AND tc.constraint_type = 'CHECK' WHERE cc.constraint_schema = DATABASE() ORDER BY 1, 2"),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         auto it = s.tables.find(row.get<std::string>(0));
                         if (it == s.tables.end()) continue;
                         TableSchema& t = it->second;
                         const std::string name = row.get<std::string>(1);
                         const std::string clause = row.get<std::string>(2);
                         // MariaDB's JSON is LONGTEXT plus a CHECK named after the column.
                         if (clause.find("json_valid(") != std::string::npos) {
                           bool column = false;
                           for (ColumnSchema& c : t.columns)
                             if (c.name == name) {
                               c.type = ColumnType::json;
                               column = true;
                             }
                           if (column) continue;
                         }
                         t.checks.push_back(CheckSchema{name, clause});
                       }
                     }});
}

}  // namespace

void start_mysql_inspection(InspectPlan::State& s) {
  s.steps.push_back({q("SELECT table_name FROM information_schema.tables "
                       "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1"),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         std::string name = row.get<std::string>(0);
                         if (s.wanted(name)) s.tables[name].name = name;
                       }
                       inspect_details(s);
                     }});
}

}  // namespace corm::sql::detail
