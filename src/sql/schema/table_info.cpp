// Completing and querying TableInfo: derived constraint names, validation, the per-dialect
// declared schema.

#include "corm/sql/schema/table_info.hpp"

#include <algorithm>
#include <set>

#include "corm/core/error.hpp"

namespace corm {

namespace detail {

const TableInfo* finish_table_info(TableInfo* t) {
  if (t->name.empty()) throw ConfigError("a mapped table has an empty name");
  std::set<std::string> seen;
  for (ColumnInfo& c : t->columns) {
    c.table = t;
    if (!seen.insert(c.name).second)
      throw ConfigError("table '" + t->name + "' maps column '" + c.name + "' twice; give each member its own column name");
    if (c.primary_key) t->primary_key.push_back(c.index);
    if (c.version) {
      if (t->version_column)
        throw ConfigError("table '" + t->name + "' has two version_counter columns; keep one");
      t->version_column = c.index;
    }
    if (c.indexed) t->indexes.push_back(IndexSchema{"ix_" + t->name + "_" + c.name, {c.name}, {}, false});
    if (c.unique) t->uniques.push_back(UniqueSchema{"uq_" + t->name + "_" + c.name, {c.name}});
    if (c.check) t->checks.push_back(CheckSchema{"ck_" + t->name + "_" + c.name, *c.check});
    if (c.foreign_key) {
      const ForeignKeyInfo& fk = *c.foreign_key;
      t->foreign_keys.push_back(ForeignKeySchema{"fk_" + t->name + "_" + c.name, {c.name}, fk.table,
                                                 {fk.column}, fk.on_delete, fk.on_update});
    }
  }
  std::size_t n = 0;
  for (CheckSchema& ck : t->checks)
    if (ck.name.empty()) ck.name = "ck_" + t->name + "_" + std::to_string(++n);
  for (UniqueSchema& u : t->uniques) {
    if (!u.name.empty()) continue;
    u.name = "uq_" + t->name;
    for (const std::string& c : u.columns) u.name += "_" + c;
  }
  std::set<std::string> names;
  for (const IndexSchema& ix : t->indexes)
    if (!names.insert(ix.name).second)
      throw ConfigError("table '" + t->name + "' declares index '" + ix.name + "' twice; index names must be unique");
  for (const RelationshipInfo& r : t->relationships)
    if (!seen.insert(r.name).second)
      throw ConfigError("table '" + t->name + "': relationship '" + r.name + "' has the name of another column or relationship");
  return t;
}

}  // namespace detail

const ColumnInfo* TableInfo::find_column(std::string_view n) const noexcept {
  for (const ColumnInfo& c : columns)
    if (c.name == n) return &c;
  return nullptr;
}

const ColumnInfo& TableInfo::column(std::string_view n) const {
  if (const ColumnInfo* c = find_column(n)) return *c;
  std::string names;
  for (const ColumnInfo& c : columns) names += (names.empty() ? "" : ", ") + c.name;
  throw ConfigError("table '" + name + "' has no column '" + std::string(n) + "'; its columns are: " + names);
}

const RelationshipInfo* TableInfo::find_relationship(std::string_view n) const noexcept {
  for (const RelationshipInfo& r : relationships)
    if (r.name == n) return &r;
  return nullptr;
}

TableSchema TableInfo::schema(Dialect d) const {
  TableSchema s;
  s.name = name;
  for (const ColumnInfo& c : columns) {
    ColumnSchema cs;
    cs.name = c.name;
    cs.type = c.type;
    cs.max_length = c.max_length;
    cs.precision = c.precision;
    cs.scale = c.precision > 0 ? c.scale : 0;
    cs.nullable = c.nullable && !c.primary_key;
    cs.identity = c.identity;
    cs.server_default = c.server_default;
    // SQLite's identity is the rowid: its column is `INTEGER`, a 64-bit integer.
    if (d == Dialect::sqlite && c.identity) cs.type = ColumnType::int64;
    s.columns.push_back(std::move(cs));
  }
  for (std::size_t i : primary_key) s.primary_key.push_back(columns[i].name);
  s.indexes = indexes;
  if (d != Dialect::postgresql)
    for (IndexSchema& ix : s.indexes) ix.include.clear();  // only PostgreSQL has a covering INCLUDE
  s.uniques = uniques;
  s.foreign_keys = foreign_keys;
  s.checks = checks;
  s.normalize();
  return s;
}

}  // namespace corm
