// Node builders and the statement-building helpers the typed front calls: FROM inference,
// relationship joins, primary-key predicates, ORDER BY from an allow-listed name.

#include "corm/sql/expression/node.hpp"

#include <algorithm>
#include <string>

#include "corm/core/error.hpp"
#include "corm/sql/expression/order_by.hpp"
#include "corm/sql/schema/table_info.hpp"
#include "corm/sql/statement/returning.hpp"
#include "corm/sql/statement/select.hpp"
#include "corm/sql/statement/update.hpp"

namespace corm::sql::detail {

namespace {
std::shared_ptr<Node> fresh(NodeKind k, Op op = Op::none) {
  auto n = std::make_shared<Node>();
  n->kind = k;
  n->op = op;
  return n;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}
}  // namespace

NodePtr make_column(const ColumnInfo* c, std::string qualifier) {
  auto n = fresh(NodeKind::column);
  n->column = c;
  n->qualifier = std::move(qualifier);
  return n;
}

NodePtr make_bind(Value v) {
  auto n = fresh(NodeKind::bind);
  n->value = std::move(v);
  return n;
}

NodePtr make_list_bind(std::vector<Value> items) {
  auto n = fresh(NodeKind::list_bind);
  n->value = Value(Array{std::move(items)});
  return n;
}

NodePtr make_unary(Op op, NodePtr x) {
  auto n = fresh(NodeKind::unary, op);
  n->args.push_back(std::move(x));
  return n;
}

NodePtr make_binary(Op op, NodePtr l, NodePtr r) {
  auto n = fresh(NodeKind::binary, op);
  n->args.push_back(std::move(l));
  n->args.push_back(std::move(r));
  return n;
}

NodePtr make_node(NodeKind k, Op op, std::vector<NodePtr> args, bool flag) {
  auto n = fresh(k, op);
  n->args = std::move(args);
  n->flag = flag;
  return n;
}

NodePtr make_func(std::string_view name, std::vector<NodePtr> args) {
  // A function name is SQL syntax, not data: accept only identifiers (optionally one schema
  // qualifier), so a name that came from anywhere can never carry SQL.
  auto dot = name.find('.');
  bool ok = dot == std::string_view::npos ? is_identifier(name)
                                          : is_identifier(name.substr(0, dot)) && is_identifier(name.substr(dot + 1));
  if (!ok)
    throw ConfigError("func(): '" + std::string(name.substr(0, 80)) +
                      "' is not a function name; use letters, digits and _ (optionally schema.name)");
  auto n = fresh(NodeKind::func);
  n->text = std::string(name);
  n->args = std::move(args);
  return n;
}

NodePtr make_select_node(NodeKind k, Op op, SelectPtr s, NodePtr lhs) {
  auto n = fresh(k, op);
  n->select = std::move(s);
  if (lhs) n->args.push_back(std::move(lhs));
  return n;
}

NodePtr make_cast(NodePtr x, ColumnType t) {
  auto n = fresh(NodeKind::cast);
  n->cast_type = t;
  n->args.push_back(std::move(x));
  return n;
}

NodePtr make_label(NodePtr x, std::string_view name) {
  if (name.empty()) throw ConfigError("label(): a label cannot be empty");
  auto n = fresh(NodeKind::label);
  n->text = std::string(name);
  n->args.push_back(std::move(x));
  return n;
}

NodePtr make_named_column(SelectPtr sub, std::string_view sub_name, std::string_view column) {
  auto n = fresh(NodeKind::named_column);
  n->select = std::move(sub);
  n->qualifier = std::string(sub_name);
  n->text = std::string(column);
  return n;
}

NodePtr and_also(const NodePtr& where, NodePtr p) {
  if (!where) return p;
  return make_binary(Op::and_, where, std::move(p));
}

namespace {
void add_unique(std::vector<FromItem>& out, const FromItem& it) {
  for (const FromItem& o : out)
    if (o.same_as(it)) return;
  out.push_back(it);
}

// Tables and subqueries an expression names, not looking inside nested selects (those have
// their own FROM).
void collect(const NodePtr& n, std::vector<FromItem>& out) {
  if (!n) return;
  if (n->kind == NodeKind::column) {
    add_unique(out, FromItem{n->column->table, n->qualifier, nullptr});
  } else if (n->kind == NodeKind::named_column) {
    add_unique(out, FromItem{nullptr, n->qualifier, n->select});
  } else if (n->kind == NodeKind::excluded) {
    return;
  }
  for (const NodePtr& a : n->args) collect(a, out);
}
}  // namespace

std::vector<FromItem> effective_from(const SelectCore& s, const std::vector<FromItem>& enclosing) {
  if (!s.from.empty()) return s.from;
  std::vector<FromItem> found;
  for (const NodePtr& c : s.columns) collect(c, found);
  if (found.empty()) {
    // select(count()).where(col(&Book::x) ...): take FROM from the other clauses; tables of an
    // enclosing statement are correlated, not added (SQLAlchemy's auto-correlation).
    collect(s.where, found);
    for (const NodePtr& g : s.group_by) collect(g, found);
    collect(s.having, found);
    for (const OrderTerm& o : s.order_by) collect(o.expr, found);
  }
  std::vector<FromItem> out;
  for (const FromItem& f : found) {
    bool skip = false;
    for (const Join& j : s.joins) skip = skip || j.target.same_as(f);
    for (const FromItem& e : enclosing) skip = skip || e.same_as(f);
    if (!skip) out.push_back(f);
  }
  return out;
}

std::vector<FromItem> effective_from(const SelectCore& s) { return effective_from(s, {}); }

void add_entity_columns(SelectCore& s, const TableInfo& t) {
  for (const ColumnInfo& c : t.columns) s.columns.push_back(make_column(&c));
}

std::vector<NodePtr> entity_columns(const TableInfo& t) {
  std::vector<NodePtr> out;
  for (const ColumnInfo& c : t.columns) out.push_back(make_column(&c));
  return out;
}

NodePtr primary_key_predicate(const TableInfo& t, const void* obj) {
  if (t.primary_key.empty())
    throw ConfigError("table '" + t.name + "' has no primary key; where_pk() needs one (corm::primary_key)");
  NodePtr out;
  for (std::size_t i : t.primary_key) {
    const ColumnInfo& c = t.columns[i];
    out = and_also(out, make_binary(Op::eq, make_column(&c), make_bind(c.get(obj))));
  }
  return out;
}

namespace {
NodePtr eq_columns(const TableInfo& a, std::size_t ca, const TableInfo& b, std::size_t cb) {
  return make_binary(Op::eq, make_column(&a.columns[ca]), make_column(&b.columns[cb]));
}

FromItem item(const TableInfo& t) { return FromItem{&t, {}, nullptr}; }
}  // namespace

void join_relationship(SelectCore& s, const TableInfo& owner, std::size_t rel_index, bool left) {
  const RelationshipInfo& r = owner.relationships.at(rel_index);
  const TableInfo& target = r.target();
  if (r.kind == RelationshipKind::many_to_many) {
    const TableInfo& sec = r.secondary();
    s.joins.push_back(Join{item(sec), eq_columns(owner, r.local_column, sec, r.secondary_local), left});
    s.joins.push_back(Join{item(target), eq_columns(sec, r.secondary_remote, target, r.remote_column), left});
  } else {
    s.joins.push_back(Join{item(target), eq_columns(owner, r.local_column, target, r.remote_column), left});
  }
}

void join_inferred(SelectCore& s, const TableInfo& target, bool left) {
  std::vector<const TableInfo*> present;
  for (const FromItem& f : effective_from(s))
    if (f.table && f.alias.empty()) present.push_back(f.table);
  for (const Join& j : s.joins)
    if (j.target.table && j.target.alias.empty()) present.push_back(j.target.table);

  struct Candidate {
    const TableInfo* owner;
    std::size_t rel;
    // The link, for recognising the two declarations of one foreign key (belongs_to and
    // has_many) as one candidate.
    const TableInfo* fk_table;
    std::size_t fk_column;
    const TableInfo* secondary;
  };
  std::vector<Candidate> found;
  auto add = [&](Candidate c) {
    for (const Candidate& o : found)
      if (o.fk_table == c.fk_table && o.fk_column == c.fk_column && o.secondary == c.secondary) return;
    found.push_back(c);
  };
  auto fk_side = [](const TableInfo& owner, const RelationshipInfo& r) -> std::pair<const TableInfo*, std::size_t> {
    if (r.kind == RelationshipKind::many_to_one) return {&owner, r.local_column};
    if (r.kind == RelationshipKind::many_to_many) return {&r.secondary(), r.secondary_local};
    return {&r.target(), r.remote_column};
  };
  std::string names;
  for (const TableInfo* p : present) {
    for (const RelationshipInfo& r : p->relationships)
      if (&r.target() == &target) {
        auto [ft, fc] = fk_side(*p, r);
        add({p, r.index, ft, fc, r.kind == RelationshipKind::many_to_many ? &r.secondary() : nullptr});
        names += (names.empty() ? "" : ", ") + p->name + "." + r.name;
      }
    for (const RelationshipInfo& r : target.relationships)
      if (&r.target() == p) {
        auto [ft, fc] = fk_side(target, r);
        // The same link seen from the other side: for many_to_many the association column that
        // refers to p is the remote one.
        if (r.kind == RelationshipKind::many_to_many) fc = r.secondary_remote;
        add({&target, r.index, ft, fc, r.kind == RelationshipKind::many_to_many ? &r.secondary() : nullptr});
        names += (names.empty() ? "" : ", ") + target.name + "." + r.name;
      }
  }
  if (found.empty())
    throw UsageError("join<" + target.name + ">(): no relationship links '" + target.name +
                     "' with the tables already in the statement; pass the ON condition: "
                     "join<T>(col(&A::x) == col(&T::y))");
  if (found.size() > 1)
    throw UsageError("join<" + target.name + ">(): several relationships link it with the statement (" + names +
                     "); join along one of them, e.g. .join(&Model::relationship)");
  const Candidate& c = found.front();
  if (c.owner == &target) {
    // Declared on the target: join the target with the condition seen from its side.
    const RelationshipInfo& r = target.relationships[c.rel];
    const TableInfo& other = r.target();
    if (r.kind == RelationshipKind::many_to_many) {
      const TableInfo& sec = r.secondary();
      s.joins.push_back(Join{item(sec), eq_columns(other, r.remote_column, sec, r.secondary_remote), left});
      s.joins.push_back(Join{item(target), eq_columns(sec, r.secondary_local, target, r.local_column), left});
    } else {
      s.joins.push_back(Join{item(target), eq_columns(other, r.remote_column, target, r.local_column), left});
    }
  } else {
    join_relationship(s, *c.owner, c.rel, left);
  }
}

OrderBy order_by_name(const TableInfo& table, std::string_view name, Direction dir) {
  const ColumnInfo* c = table.find_column(name);
  if (!c) {
    std::string names;
    for (const ColumnInfo& col : table.columns) names += (names.empty() ? "" : ", ") + col.name;
    throw ConfigError("cannot sort '" + table.name + "' by an unknown column (" + std::to_string(name.size()) +
                      " characters given); allowed names: " + names);
  }
  return OrderBy(OrderTerm{make_column(c), dir == Direction::desc, Nulls::unspecified});
}

}  // namespace corm::sql::detail
