#include "corm/migrate/schema_diff.hpp"

#include <algorithm>
#include <map>

namespace corm::migrate {

namespace {

// The texts are built by appending only: with `"(" + std::string` (operator+ inserting at the
// front of a temporary), GCC 12 at -O3 reports a bogus -Wrestrict overlap in the inlined memcpy
// of basic_string::_M_replace, which fails Release builds with -Werror.
std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string type_text(const ColumnSchema& c) {
  std::string s(column_type_name(c.type));
  if (c.max_length) s.append("(").append(std::to_string(c.max_length)).append(")");
  if (c.precision) {
    s.append("(").append(std::to_string(c.precision)).append(",").append(std::to_string(c.scale)).append(")");
  }
  return s;
}

std::string index_text(const IndexSchema& ix) {
  std::string s(ix.unique ? "unique (" : "(");
  s.append(join(ix.columns)).append(")");
  if (!ix.include.empty()) s.append(" include (").append(join(ix.include)).append(")");
  return s;
}

std::string fk_text(const ForeignKeySchema& f) {
  std::string s("(");
  s.append(join(f.columns)).append(") -> ").append(f.referred_table).append(" (");
  s.append(join(f.referred_columns)).append(")");
  if (f.on_delete != FkAction::no_action) s.append(" on delete ").append(fk_action_sql(f.on_delete));
  if (f.on_update != FkAction::no_action) s.append(" on update ").append(fk_action_sql(f.on_update));
  return s;
}

template <class T, class Same>
bool contains(const std::vector<T>& v, const T& x, Same same) {
  return std::any_of(v.begin(), v.end(), [&](const T& y) { return same(x, y); });
}

}  // namespace

std::string_view change_kind_name(ChangeKind k) noexcept {
  switch (k) {
    case ChangeKind::add_table: return "add_table";
    case ChangeKind::drop_table: return "drop_table";
    case ChangeKind::add_column: return "add_column";
    case ChangeKind::drop_column: return "drop_column";
    case ChangeKind::alter_column_type: return "alter_column_type";
    case ChangeKind::alter_column_nullable: return "alter_column_nullable";
    case ChangeKind::alter_column_default: return "alter_column_default";
    case ChangeKind::alter_column_identity: return "alter_column_identity";
    case ChangeKind::alter_primary_key: return "alter_primary_key";
    case ChangeKind::add_index: return "add_index";
    case ChangeKind::drop_index: return "drop_index";
    case ChangeKind::add_unique: return "add_unique";
    case ChangeKind::drop_unique: return "drop_unique";
    case ChangeKind::add_foreign_key: return "add_foreign_key";
    case ChangeKind::drop_foreign_key: return "drop_foreign_key";
  }
  return "change";
}

std::string describe_column(const ColumnSchema& c) {
  std::string s = type_text(c) + (c.nullable ? " null" : " not null");
  if (c.identity) s += " identity";
  if (c.server_default) s += " default " + *c.server_default;
  return s;
}

std::string SchemaChange::describe() const {
  std::string what(change_kind_name(kind));
  std::replace(what.begin(), what.end(), '_', ' ');
  std::string s = what + " " + table;
  if (!name.empty()) s += (kind == ChangeKind::add_column || kind == ChangeKind::drop_column ||
                           kind == ChangeKind::alter_column_type || kind == ChangeKind::alter_column_nullable ||
                           kind == ChangeKind::alter_column_default || kind == ChangeKind::alter_column_identity)
                              ? "." + name
                              : " " + name;
  if (!detail.empty()) s += " " + detail;
  return s;
}

std::vector<SchemaChange> diff_tables(const TableSchema& from, const TableSchema& to) {
  std::vector<SchemaChange> out;
  const std::string& t = to.name;
  for (const ColumnSchema& c : from.columns)
    if (!to.column(c.name)) out.push_back({ChangeKind::drop_column, t, c.name, "(" + describe_column(c) + ")"});
  for (const ColumnSchema& c : to.columns) {
    const ColumnSchema* f = from.column(c.name);
    if (!f) {
      out.push_back({ChangeKind::add_column, t, c.name, "(" + describe_column(c) + ")"});
      continue;
    }
    if (f->type != c.type || f->max_length != c.max_length || f->precision != c.precision || f->scale != c.scale)
      out.push_back({ChangeKind::alter_column_type, t, c.name, type_text(*f) + " -> " + type_text(c)});
    if (f->nullable != c.nullable)
      out.push_back({ChangeKind::alter_column_nullable, t, c.name, c.nullable ? "not null -> null" : "null -> not null"});
    if (f->server_default != c.server_default)
      out.push_back({ChangeKind::alter_column_default, t, c.name,
                     f->server_default.value_or("(none)") + " -> " + c.server_default.value_or("(none)")});
    if (f->identity != c.identity)
      out.push_back({ChangeKind::alter_column_identity, t, c.name, c.identity ? "-> identity" : "identity ->"});
  }
  if (from.primary_key != to.primary_key)
    out.push_back({ChangeKind::alter_primary_key, t, "", "(" + join(from.primary_key) + ") -> (" + join(to.primary_key) + ")"});
  for (const IndexSchema& ix : from.indexes)
    if (!contains(to.indexes, ix, std::equal_to<>{})) out.push_back({ChangeKind::drop_index, t, ix.name, index_text(ix)});
  for (const IndexSchema& ix : to.indexes)
    if (!contains(from.indexes, ix, std::equal_to<>{})) out.push_back({ChangeKind::add_index, t, ix.name, index_text(ix)});
  for (const UniqueSchema& u : from.uniques)
    if (!contains(to.uniques, u, std::equal_to<>{}))
      out.push_back({ChangeKind::drop_unique, t, u.name, "(" + join(u.columns) + ")"});
  for (const UniqueSchema& u : to.uniques)
    if (!contains(from.uniques, u, std::equal_to<>{}))
      out.push_back({ChangeKind::add_unique, t, u.name, "(" + join(u.columns) + ")"});
  for (const ForeignKeySchema& f : from.foreign_keys)
    if (!contains(to.foreign_keys, f, std::equal_to<>{}))
      out.push_back({ChangeKind::drop_foreign_key, t, f.name, fk_text(f)});
  for (const ForeignKeySchema& f : to.foreign_keys)
    if (!contains(from.foreign_keys, f, std::equal_to<>{}))
      out.push_back({ChangeKind::add_foreign_key, t, f.name, fk_text(f)});
  return out;
}

std::vector<SchemaChange> diff_schemas(const std::vector<TableSchema>& from, const std::vector<TableSchema>& to) {
  std::map<std::string, const TableSchema*> f, t;
  for (const TableSchema& s : from) f[s.name] = &s;
  for (const TableSchema& s : to) t[s.name] = &s;
  std::vector<SchemaChange> out;
  for (const auto& [name, s] : t)
    if (!f.count(name)) out.push_back({ChangeKind::add_table, name, "", ""});
  for (const auto& [name, s] : f)
    if (!t.count(name)) out.push_back({ChangeKind::drop_table, name, "", ""});
  for (const auto& [name, s] : t) {
    auto it = f.find(name);
    if (it == f.end()) continue;
    auto d = diff_tables(*it->second, *s);
    out.insert(out.end(), d.begin(), d.end());
  }
  return out;
}

}  // namespace corm::migrate
