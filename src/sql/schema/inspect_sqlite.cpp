// SQLite introspection: sqlite_master for the tables, then the pragma table-valued functions
// (table names bound as parameters, never spliced) for columns, indexes and foreign keys.

#include <algorithm>
#include <cctype>

#include "sql/schema/inspect_state.hpp"

namespace corm::sql::detail {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// "VARCHAR(100)" → base "VARCHAR", args {100}.
void split_type(const std::string& t, std::string& base, std::vector<int>& args) {
  auto p = t.find('(');
  base = t.substr(0, p);
  while (!base.empty() && base.back() == ' ') base.pop_back();
  args.clear();
  if (p == std::string::npos) return;
  std::string inner = t.substr(p + 1, t.find(')', p) - p - 1);
  std::size_t start = 0;
  while (start <= inner.size()) {
    auto comma = inner.find(',', start);
    std::string part = inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    try {
      args.push_back(std::stoi(part));
    } catch (...) {
      args.push_back(0);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

// Declared type → ColumnType: the names corm's DDL writes first, then SQLite's affinity rules.
void normalise_type(const std::string& declared, ColumnSchema& c) {
  std::string base;
  std::vector<int> args;
  split_type(upper(declared), base, args);
  if (base == "BOOLEAN" || base == "BOOL") c.type = ColumnType::boolean;
  else if (base == "SMALLINT") c.type = ColumnType::int16;
  else if (base == "INT") c.type = ColumnType::int32;
  else if (base == "INTEGER" || base == "BIGINT") c.type = ColumnType::int64;
  else if (base == "REAL" || base == "FLOAT") c.type = ColumnType::float32;
  else if (base == "DOUBLE" || base == "DOUBLE PRECISION") c.type = ColumnType::float64;
  else if (base == "VARCHAR") {
    c.type = ColumnType::text;
    c.max_length = args.empty() ? 0 : args[0];
  } else if (base == "BLOB") c.type = ColumnType::bytes;
  else if (base == "TIMESTAMP_TEXT") c.type = ColumnType::timestamp;
  else if (base == "DATE_TEXT") c.type = ColumnType::date;
  else if (base == "DECIMAL_TEXT") {
    c.type = ColumnType::decimal;
    if (!args.empty()) {
      c.precision = args[0];
      c.scale = args.size() > 1 ? args[1] : 0;
    }
  } else if (base == "UUID_TEXT") c.type = ColumnType::uuid;
  else if (base == "JSON_TEXT") c.type = ColumnType::json;
  else if (base.find("INT") != std::string::npos) c.type = ColumnType::int64;
  else if (base.find("REAL") != std::string::npos || base.find("FLOA") != std::string::npos ||
           base.find("DOUB") != std::string::npos)
    c.type = ColumnType::float64;
  else if (base.find("BLOB") != std::string::npos) c.type = ColumnType::bytes;
  else c.type = ColumnType::text;
}

DriverQuery q(std::string sql, std::vector<Value> params = {}) { return DriverQuery{std::move(sql), std::move(params)}; }

void inspect_table(InspectPlan::State& s, const std::string& name) {
  s.tables[name].name = name;
  s.steps.push_back({q("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid", {Value(name)}),
                     [&s, name](const Result& r) {
                       TableSchema& t = s.tables[name];
                       std::vector<std::pair<std::int64_t, std::string>> pk;
                       for (const Row& row : r) {
                         ColumnSchema c;
                         c.name = row.get<std::string>(0);
                         std::string type = row.get<std::string>(1);
                         normalise_type(type, c);
                         std::int64_t pk_pos = row.get<std::int64_t>(4);
                         c.nullable = row.get<std::int64_t>(2) == 0 && pk_pos == 0;
                         c.server_default = row.get<std::optional<std::string>>(3);
                         if (pk_pos > 0) pk.emplace_back(pk_pos, c.name);
                         t.columns.push_back(std::move(c));
                       }
                       std::sort(pk.begin(), pk.end());
                       for (auto& [pos, col] : pk) t.primary_key.push_back(col);
                       // An INTEGER single-column key is the rowid: SQLite generates it.
                       if (pk.size() == 1)
                         for (ColumnSchema& c : t.columns)
                           if (c.name == pk[0].second && c.type == ColumnType::int64 && c.server_default == std::nullopt) {
                             for (const Row& row : r)
                               if (row.get<std::string>(0) == c.name && upper(row.get<std::string>(1)) == "INTEGER")
                                 c.identity = true;
                           }
                     }});
  s.steps.push_back({q("SELECT name, \"unique\", origin FROM pragma_index_list(?1) ORDER BY name", {Value(name)}),
                     [&s, name](const Result& r) {
                       for (const Row& row : r) {
                         std::string index = row.get<std::string>(0);
                         bool unique = row.get<std::int64_t>(1) != 0;
                         std::string origin = row.get<std::string>(2);
                         if (origin == "pk") continue;
                         s.steps.push_back({q("SELECT name FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno", {Value(index)}),
                                            [&s, name, index, unique, origin](const Result& cols) {
                                              std::vector<std::string> names;
                                              for (const Row& c : cols) names.push_back(c.get<std::optional<std::string>>(0).value_or(""));
                                              TableSchema& t = s.tables[name];
                                              if (origin == "u")
                                                t.uniques.push_back(UniqueSchema{index, std::move(names)});
                                              else
                                                t.indexes.push_back(IndexSchema{index, std::move(names), {}, unique});
                                            }});
                       }
                     }});
  s.steps.push_back({q("SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete "
                       "FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
                       {Value(name)}),
                     [&s, name](const Result& r) {
                       TableSchema& t = s.tables[name];
                       std::int64_t current = -1;
                       for (const Row& row : r) {
                         std::int64_t id = row.get<std::int64_t>(0);
                         if (id != current) {
                           current = id;
                           ForeignKeySchema fk;
                           fk.referred_table = row.get<std::string>(2);
                           fk.on_update = parse_fk_action(row.get<std::string>(5));
                           fk.on_delete = parse_fk_action(row.get<std::string>(6));
                           t.foreign_keys.push_back(std::move(fk));
                         }
                         t.foreign_keys.back().columns.push_back(row.get<std::string>(3));
                         t.foreign_keys.back().referred_columns.push_back(row.get<std::optional<std::string>>(4).value_or(""));
                       }
                     }});
}

}  // namespace

void start_sqlite_inspection(InspectPlan::State& s) {
  s.steps.push_back({q("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                       "ORDER BY name"),
                     [&s](const Result& r) {
                       for (const Row& row : r) {
                         std::string name = row.get<std::string>(0);
                         if (s.wanted(name)) inspect_table(s, name);
                       }
                     }});
}

}  // namespace corm::sql::detail
