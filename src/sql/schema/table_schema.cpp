#include "corm/sql/schema/table_schema.hpp"

#include <algorithm>

namespace corm {

void TableSchema::normalize() {
  std::sort(indexes.begin(), indexes.end(), [](const IndexSchema& a, const IndexSchema& b) { return a.name < b.name; });
  std::sort(uniques.begin(), uniques.end(), [](const UniqueSchema& a, const UniqueSchema& b) { return a.columns < b.columns; });
  std::sort(foreign_keys.begin(), foreign_keys.end(), [](const ForeignKeySchema& a, const ForeignKeySchema& b) {
    return a.columns != b.columns ? a.columns < b.columns : a.referred_table < b.referred_table;
  });
  std::sort(checks.begin(), checks.end(), [](const CheckSchema& a, const CheckSchema& b) { return a.name < b.name; });
}

const ColumnSchema* TableSchema::column(std::string_view n) const {
  for (const ColumnSchema& c : columns)
    if (c.name == n) return &c;
  return nullptr;
}

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}
}  // namespace

std::string describe(const TableSchema& t) {
  std::string out = "table " + t.name + "\n";
  for (const ColumnSchema& c : t.columns) {
    out += "  column " + c.name + " " + std::string(column_type_name(c.type));
    if (c.max_length) out += "(" + std::to_string(c.max_length) + ")";
    if (c.precision) out += "(" + std::to_string(c.precision) + "," + std::to_string(c.scale) + ")";
    out += c.nullable ? " null" : " not null";
    if (c.identity) out += " identity";
    if (c.server_default) out += " default " + *c.server_default;
    out += "\n";
  }
  out += "  primary key (" + join(t.primary_key) + ")\n";
  for (const IndexSchema& i : t.indexes)
    out += "  " + std::string(i.unique ? "unique " : "") + "index " + i.name + " (" + join(i.columns) + ")" +
           (i.include.empty() ? "" : " include (" + join(i.include) + ")") + "\n";
  for (const UniqueSchema& u : t.uniques) out += "  unique " + u.name + " (" + join(u.columns) + ")\n";
  for (const ForeignKeySchema& f : t.foreign_keys)
    out += "  foreign key " + f.name + " (" + join(f.columns) + ") -> " + f.referred_table + " (" +
           join(f.referred_columns) + ") on delete " + std::string(fk_action_sql(f.on_delete)) + " on update " +
           std::string(fk_action_sql(f.on_update)) + "\n";
  for (const CheckSchema& c : t.checks) out += "  check " + c.name + " " + c.sql + "\n";
  return out;
}

}  // namespace corm
