// Writing a revision's SQL from a schema difference: the statement order that keeps every step
// valid (foreign keys and indexes go before what they depend on, come back after it), the
// PostgreSQL ALTER forms, and SQLite's copy-and-move rebuild.

#include "corm/migrate/autogenerate.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "corm/sql/schema/schema_ddl.hpp"

namespace corm::migrate {

namespace {

using TableMap = std::map<std::string, const TableSchema*>;

class Script {
 public:
  void comment(const std::string& text) { out_ += "-- " + text + "\n"; }
  void review(const std::string& text) { out_ += "-- REVIEW: " + text + "\n"; }
  void statement(const std::string& sql) { out_ += sql + ";\n"; }
  void statements(const std::vector<std::string>& sql) {
    for (const std::string& s : sql) statement(s);
  }
  void blank() {
    if (!out_.empty() && !(out_.size() >= 2 && out_.compare(out_.size() - 2, 2, "\n\n") == 0)) out_ += "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string q(Dialect d, const std::string& n) { return quote_identifier(d, n); }

bool mentions(const std::vector<std::string>& v, const std::string& name) {
  return std::find(v.begin(), v.end(), name) != v.end();
}

// Tables of `set` ordered so each comes after the tables of `set` it refers to; a cycle falls
// back to name order for what is left (those keys need a later ALTER, which SQLite lacks).
std::vector<const TableSchema*> dependency_order(std::vector<const TableSchema*> set) {
  std::sort(set.begin(), set.end(), [](const TableSchema* a, const TableSchema* b) { return a->name < b->name; });
  std::set<std::string> names;
  for (const TableSchema* t : set) names.insert(t->name);
  std::vector<const TableSchema*> out;
  std::set<std::string> done;
  while (out.size() < set.size()) {
    bool progressed = false;
    for (const TableSchema* t : set) {
      if (done.count(t->name)) continue;
      bool ready = true;
      for (const ForeignKeySchema& f : t->foreign_keys)
        if (f.referred_table != t->name && names.count(f.referred_table) && !done.count(f.referred_table)) ready = false;
      if (!ready) continue;
      out.push_back(t);
      done.insert(t->name);
      progressed = true;
    }
    if (!progressed)
      for (const TableSchema* t : set)
        if (!done.count(t->name)) {
          out.push_back(t);
          done.insert(t->name);
          break;
        }
  }
  return out;
}

// A default SQLite accepts in ALTER TABLE ADD COLUMN: a constant, not an expression.
bool constant_default(const std::string& sql) {
  if (sql.empty() || sql[0] == '(') return false;
  std::string up;
  for (char c : sql) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return up.rfind("CURRENT_", 0) != 0;
}

// Why SQLite cannot apply `changes` to `from` in place (empty: it can).
std::vector<std::string> sqlite_rebuild_reasons(const TableSchema& from, const TableSchema& to,
                                                const std::vector<SchemaChange>& changes) {
  std::vector<std::string> why;
  for (const SchemaChange& c : changes) {
    switch (c.kind) {
      case ChangeKind::alter_column_type: why.push_back("change the type of column " + c.name); break;
      case ChangeKind::alter_column_nullable: why.push_back("change the nullability of column " + c.name); break;
      case ChangeKind::alter_column_default: why.push_back("change the default of column " + c.name); break;
      case ChangeKind::alter_column_identity: why.push_back("change whether " + c.name + " is generated"); break;
      case ChangeKind::alter_primary_key: why.push_back("change the primary key"); break;
      case ChangeKind::add_unique: why.push_back("add a unique constraint " + c.detail); break;
      case ChangeKind::drop_unique: why.push_back("drop a unique constraint " + c.detail); break;
      case ChangeKind::add_foreign_key: why.push_back("add a foreign key " + c.detail); break;
      case ChangeKind::drop_foreign_key: why.push_back("drop a foreign key " + c.detail); break;
      case ChangeKind::drop_column: {
        bool constrained = mentions(from.primary_key, c.name);
        for (const UniqueSchema& u : from.uniques) constrained = constrained || mentions(u.columns, c.name);
        for (const ForeignKeySchema& f : from.foreign_keys) constrained = constrained || mentions(f.columns, c.name);
        for (const CheckSchema& k : from.checks) constrained = constrained || k.sql.find(c.name) != std::string::npos;
        if (constrained) why.push_back("drop column " + c.name + ", which has a constraint");
        break;
      }
      case ChangeKind::add_column: {
        const ColumnSchema& col = *to.column(c.name);
        bool in_constraint = mentions(to.primary_key, c.name) || col.identity;
        for (const UniqueSchema& u : to.uniques) in_constraint = in_constraint || mentions(u.columns, c.name);
        for (const ForeignKeySchema& f : to.foreign_keys) in_constraint = in_constraint || mentions(f.columns, c.name);
        if (in_constraint) why.push_back("add column " + c.name + " with a constraint");
        else if (col.server_default && !constant_default(*col.server_default))
          why.push_back("add column " + c.name + " with a non-constant default");
        else if (!col.nullable && !col.server_default)
          why.push_back("add NOT NULL column " + c.name + " without a default");
        break;
      }
      default: break;
    }
  }
  return why;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// SQLite's copy-and-move: the new shape under a temporary name, the rows of the columns both
// shapes have, the old table dropped, the new one renamed, its indexes created.
void sqlite_rebuild(Script& s, const TableSchema& from, const TableSchema& to, const std::vector<std::string>& why) {
  const Dialect d = Dialect::sqlite;
  s.comment("SQLite cannot " + join(why, ", ") + " in place: rebuild " + to.name + " by copy-and-move");
  if (!from.checks.empty() && to.checks.empty())
    s.review("SQLite does not report CHECK constraints; if " + to.name + " should keep any, add them to the CREATE TABLE below");
  TableSchema tmp = to;
  tmp.name = "_corm_new_" + to.name;
  tmp.indexes.clear();
  s.statements(create_table_sql(d, tmp, DdlOptions{false}));
  std::vector<std::string> cols;
  for (const ColumnSchema& c : to.columns) {
    if (from.column(c.name)) cols.push_back(q(d, c.name));
    else if (!c.nullable && !c.server_default && !c.identity)
      s.review("new NOT NULL column " + c.name + " has no default: the copy below fails if " + to.name +
               " has rows; add a DEFAULT or fill it in the INSERT");
  }
  if (!cols.empty())
    s.statement("INSERT INTO " + q(d, tmp.name) + " (" + join(cols, ", ") + ") SELECT " + join(cols, ", ") + " FROM " +
                q(d, from.name));
  s.statement(drop_table_sql(d, from.name, DdlOptions{false}));
  s.statement(rename_table_sql(d, tmp.name, to.name));
  for (const IndexSchema& ix : to.indexes) s.statement(create_index_sql(d, to.name, ix, DdlOptions{false}));
}

// InnoDB creates an index named after a foreign key when no index, unique key or primary key of
// the table starts with its columns, and keeps it when the key is dropped (inspection hides it
// while the key exists).
bool innodb_made_index_for(const TableSchema& t, const ForeignKeySchema& fk) {
  auto leads = [&](const std::vector<std::string>& cols) {
    return cols.size() >= fk.columns.size() && std::equal(fk.columns.begin(), fk.columns.end(), cols.begin());
  };
  if (leads(t.primary_key)) return false;
  for (const IndexSchema& ix : t.indexes)
    if (leads(ix.columns)) return false;
  for (const UniqueSchema& u : t.uniques)
    if (leads(u.columns)) return false;
  return true;
}

}  // namespace

std::string migration_sql(Dialect d, const std::vector<TableSchema>& from, const std::vector<TableSchema>& to) {
  const bool pg = d == Dialect::postgresql;
  const bool my = d == Dialect::mysql;
  const bool in_place = pg || my;  // SQLite rebuilds what it cannot ALTER
  const DdlOptions exact{false};
  TableMap f, t;
  for (const TableSchema& x : from) f[x.name] = &x;
  for (const TableSchema& x : to) t[x.name] = &x;

  std::vector<const TableSchema*> added, dropped;
  std::vector<std::pair<const TableSchema*, const TableSchema*>> common;  // (from, to)
  for (const auto& [name, x] : t) {
    auto it = f.find(name);
    if (it == f.end()) added.push_back(x);
    else common.emplace_back(it->second, x);
  }
  for (const auto& [name, x] : f)
    if (!t.count(name)) dropped.push_back(x);

  std::map<std::string, std::vector<SchemaChange>> changes;
  std::map<std::string, std::vector<std::string>> rebuild;
  bool any = !added.empty() || !dropped.empty();
  for (const auto& [a, b] : common) {
    auto c = diff_tables(*a, *b);
    if (c.empty()) continue;
    any = true;
    if (!in_place) {
      auto why = sqlite_rebuild_reasons(*a, *b, c);
      if (!why.empty()) rebuild[b->name] = std::move(why);
    }
    changes[b->name] = std::move(c);
  }
  if (!any) return "-- no changes\n";

  Script s;
  auto each = [&](ChangeKind kind, auto&& fn) {
    for (const auto& [a, b] : common) {
      auto it = changes.find(b->name);
      if (it == changes.end() || rebuild.count(b->name)) continue;
      for (const SchemaChange& c : it->second)
        if (c.kind == kind) fn(*a, *b, c);
    }
  };

  // 1. What depends on something that changes goes first: foreign keys, indexes, uniques, keys.
  if (in_place) {
    each(ChangeKind::drop_foreign_key, [&](const TableSchema& a, const TableSchema& b, const SchemaChange& c) {
      s.comment(c.describe());
      if (!my) {
        s.statement(drop_constraint_sql(b.name, c.name));
        return;
      }
      s.statement(drop_foreign_key_sql(b.name, c.name));
      for (const ForeignKeySchema& fk : a.foreign_keys)
        if (fk.name == c.name && innodb_made_index_for(a, fk)) s.statement(drop_index_sql(d, b.name, c.name, exact));
    });
  }
  each(ChangeKind::drop_index, [&](const TableSchema&, const TableSchema& b, const SchemaChange& c) {
    s.comment(c.describe());
    s.statement(drop_index_sql(d, b.name, c.name, exact));
  });
  if (in_place) {
    each(ChangeKind::drop_unique, [&](const TableSchema&, const TableSchema& b, const SchemaChange& c) {
      s.comment(c.describe());
      s.statement(my ? drop_unique_sql(b.name, c.name) : drop_constraint_sql(b.name, c.name));
    });
    each(ChangeKind::alter_primary_key, [&](const TableSchema& a, const TableSchema& b, const SchemaChange& c) {
      s.comment(c.describe());
      if (a.primary_key.empty()) return;
      if (my) {
        s.statement(drop_primary_key_sql(b.name));  // a MySQL table has one, always named PRIMARY
        return;
      }
      s.review("assumes the primary key constraint of " + b.name + " is named pk_" + b.name +
               " (corm's name); correct it if the database uses another");
      s.statement(drop_constraint_sql(b.name, "pk_" + b.name));
    });
  }
  s.blank();

  // 2. Tables that go, dependants first.
  auto drop_order = dependency_order(dropped);
  std::reverse(drop_order.begin(), drop_order.end());
  for (const TableSchema* x : drop_order) {
    s.comment("drop table " + x->name + " (its rows are lost)");
    if (!added.empty())
      s.review("if " + x->name + " was renamed to " + added.front()->name +
               " rather than dropped, replace this DROP and that CREATE with " +
               rename_table_sql(d, x->name, added.front()->name) + " to keep its rows");
    s.statement(drop_table_sql(d, x->name, exact));
  }
  s.blank();

  // 3. New tables, referred-to tables first.
  for (const TableSchema* x : dependency_order(added)) {
    s.comment("add table " + x->name);
    s.statements(create_table_sql(d, *x, exact));
  }
  s.blank();

  // 4. Columns of the tables on both sides.
  for (const auto& [a, b] : common) {
    auto it = changes.find(b->name);
    if (it == changes.end()) continue;
    const std::vector<SchemaChange>& cs = it->second;
    if (auto r = rebuild.find(b->name); r != rebuild.end()) {
      sqlite_rebuild(s, *a, *b, r->second);
      s.blank();
      continue;
    }
    const bool adds = std::any_of(cs.begin(), cs.end(), [](const SchemaChange& c) { return c.kind == ChangeKind::add_column; });
    for (const SchemaChange& c : cs) {
      if (c.kind != ChangeKind::drop_column) continue;
      s.comment(c.describe() + " (its values are lost)");
      if (adds)
        s.review(b->name + " drops " + c.name + " and adds another column; if it was renamed, replace the pair with "
                 "ALTER TABLE " + q(d, b->name) + " RENAME COLUMN " + q(d, c.name) + " TO <new name> to keep its values");
      s.statement(drop_column_sql(d, b->name, c.name));
    }
    for (const SchemaChange& c : cs) {
      if (c.kind != ChangeKind::add_column) continue;
      const ColumnSchema& col = *b->column(c.name);
      s.comment(c.describe());
      if (!col.nullable && !col.server_default && !col.identity)
        s.review("NOT NULL column " + c.name + " has no default: this fails if " + b->name +
                 " has rows; add a server_default, or add it nullable, fill it, then make it NOT NULL");
      if (pg && col.identity) {
        ColumnSchema plain = col;
        plain.identity = false;
        s.statement(add_column_sql(d, b->name, plain));
        s.statement(alter_column_identity_sql(b->name, col.name, true));
      } else {
        s.statement(add_column_sql(d, b->name, col));
      }
    }
    if (!in_place) continue;  // SQLite's in-place changes end here; the rest is rebuilt
    for (const ColumnSchema& col : b->columns) {
      const ColumnSchema* old = a->column(col.name);
      if (!old) continue;
      auto has = [&](ChangeKind k) {
        return std::any_of(cs.begin(), cs.end(), [&](const SchemaChange& c) { return c.kind == k && c.name == col.name; });
      };
      if (my) {
        // MODIFY restates the whole column, so one statement covers every change to it.
        bool changed = false;
        for (const SchemaChange& c : cs)
          if (c.name == col.name && c.kind != ChangeKind::add_column && c.kind != ChangeKind::drop_column) {
            s.comment(c.describe());
            changed = true;
          }
        if (changed) s.statement(modify_column_sql(b->name, col));
        continue;
      }
      const bool type = has(ChangeKind::alter_column_type), def = has(ChangeKind::alter_column_default);
      for (const SchemaChange& c : cs)
        if (c.name == col.name && c.kind != ChangeKind::add_column && c.kind != ChangeKind::drop_column) s.comment(c.describe());
      if (type && def && old->server_default) s.statement(alter_column_default_sql(b->name, col.name, std::nullopt));
      if (type) s.statement(alter_column_type_sql(b->name, col));
      if (def && (col.server_default || !type)) s.statement(alter_column_default_sql(b->name, col.name, col.server_default));
      if (has(ChangeKind::alter_column_nullable)) s.statement(alter_column_nullable_sql(b->name, col.name, col.nullable));
      if (has(ChangeKind::alter_column_identity)) s.statement(alter_column_identity_sql(b->name, col.name, col.identity));
    }
  }
  s.blank();

  // 5. What depends on the new shape comes back: keys, uniques, indexes, foreign keys.
  if (in_place) {
    each(ChangeKind::alter_primary_key, [&](const TableSchema&, const TableSchema& b, const SchemaChange&) {
      if (!b.primary_key.empty()) s.statement(add_primary_key_sql(d, b.name, "pk_" + b.name, b.primary_key));
    });
    each(ChangeKind::add_unique, [&](const TableSchema&, const TableSchema& b, const SchemaChange& c) {
      s.comment(c.describe());
      for (const UniqueSchema& u : b.uniques)
        if (u.name == c.name) {
          s.statement(add_unique_sql(d, b.name, u));
          break;
        }
    });
  }
  each(ChangeKind::add_index, [&](const TableSchema&, const TableSchema& b, const SchemaChange& c) {
    s.comment(c.describe());
    for (const IndexSchema& ix : b.indexes)
      if (ix.name == c.name) {
        s.statement(create_index_sql(d, b.name, ix, exact));
        break;
      }
  });
  if (in_place) {
    each(ChangeKind::add_foreign_key, [&](const TableSchema&, const TableSchema& b, const SchemaChange& c) {
      s.comment(c.describe());
      for (const ForeignKeySchema& fk : b.foreign_keys)
        if (fk.name == c.name) {
          s.statement(add_foreign_key_sql(d, b.name, fk));
          break;
        }
    });
  }
  std::string out = s.take();
  while (out.size() > 1 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') out.pop_back();
  return out;
}

Autogenerated autogenerate(Dialect d, const std::vector<TableSchema>& database, const std::vector<TableSchema>& models) {
  Autogenerated a;
  a.changes = diff_schemas(database, models);
  if (a.changes.empty()) return a;
  a.upgrade = migration_sql(d, database, models);
  a.downgrade = migration_sql(d, models, database);
  return a;
}

}  // namespace corm::migrate
