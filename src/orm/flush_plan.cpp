#include "corm/orm/detail/flush_plan.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_set>

#include "corm/orm/errors.hpp"
#include "corm/orm/detail/session_core.hpp"
#include "corm/sql/statement/returning.hpp"
#include "corm/sql/statement/update.hpp"

namespace corm::orm {

namespace {

// The snapshot of a row just inserted: the values it sent (its statement's parameters, one per
// inserted column, moved out — the statement has run) and the columns RETURNING read back into
// the object; the same as take_snapshot() without reading every column out of the object again.
void take_inserted_snapshot(InstanceState& s, const std::vector<std::size_t>& sent_columns, std::vector<Value>& sent,
                            const std::vector<std::size_t>& returned) {
  std::pmr::vector<Value>& snap = s.reset_snapshot();
  for (std::size_t k = 0; k < sent.size() && k < sent_columns.size(); ++k) snap[sent_columns[k]] = std::move(sent[k]);
  for (std::size_t i : returned) snap[i] = s.table().columns[i].get(s.ptr());
}

// Tables a table depends on: its foreign keys' targets and its many-to-one relationships'.
std::vector<const TableInfo*> parents_of(const TableInfo& t) {
  std::vector<const TableInfo*> out;
  for (const ColumnInfo& c : t.columns)
    if (c.foreign_key && c.foreign_key->target) out.push_back(&c.foreign_key->target());
  for (const RelationshipInfo& r : t.relationships)
    if (r.kind == RelationshipKind::many_to_one) out.push_back(&r.target());
  return out;
}

std::size_t rank_of(const TableInfo* t, std::unordered_map<const TableInfo*, std::size_t>& memo,
                    std::unordered_set<const TableInfo*>& visiting) {
  if (auto it = memo.find(t); it != memo.end()) return it->second;
  if (!visiting.insert(t).second) return 0;  // a cycle: rows order it (self references)
  std::size_t r = 0;
  for (const TableInfo* p : parents_of(*t))
    if (p != t) r = std::max(r, rank_of(p, memo, visiting) + 1);
  visiting.erase(t);
  memo[t] = r;
  return r;
}

sql::detail::NodePtr version_predicate(const InstanceState& s) {
  const TableInfo& t = s.table();
  std::size_t v = *t.version_column;
  return sql::detail::make_binary(sql::detail::Op::eq, sql::detail::make_column(&t.columns[v]),
                                  sql::detail::make_bind(s.snapshot().at(v)));
}

Value bumped(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v.storage())) return Value(*i + 1);
  return Value(std::int64_t{1});
}

[[noreturn]] void throw_stale(const InstanceState& s, std::string_view verb) {
  throw StaleDataError(std::string(verb) + " of a row of '" + s.table().name +
                       "' expected to match 1 row but matched 0: another transaction changed (version column) or "
                       "deleted it since this session loaded it; roll back, reload the object and retry the operation");
}

}  // namespace

FlushPlan::FlushPlan(SessionCore& core) : core_(core) {
  if (core_.options().read_only) {
    phase_ = Phase::done;
    updates_built_ = true;
    return;
  }
  prepare();
}

void FlushPlan::prepare() {
  // save-update cascade through loaded holders (objects appended since add()).
  for (std::size_t k = 0; k < core_.tracked().size(); ++k) {
    auto s = core_.tracked()[k];  // tracked() may grow while we walk it
    if (s->status == ObjectStatus::detached || s->status == ObjectStatus::deleted) continue;
    const auto& rels = s->table().relationships;
    for (std::size_t i = 0; i < rels.size(); ++i) {
      if (!has_cascade(rels[i].cascade, Cascade::save_update)) continue;
      const RelationOps& ro = s->ops->relations[i];
      void* h = rels[i].holder(s->ptr());
      if (!ro.is_loaded(h)) continue;
      for (auto& child : ro.peek(h))
        if (!core_.state_of(child.get())) core_.add(ro.target(), child);
    }
  }
  sync_back_populates();
  for (const auto& s : core_.tracked()) {
    if (s->status == ObjectStatus::detached || s->status == ObjectStatus::deleted) continue;
    const auto& rels = s->table().relationships;
    for (std::size_t i = 0; i < rels.size(); ++i) {
      if (rels[i].kind != RelationshipKind::one_to_many && rels[i].kind != RelationshipKind::one_to_one) continue;
      const RelationOps& ro = s->ops->relations[i];
      void* h = rels[i].holder(s->ptr());
      if (!ro.is_loaded(h)) continue;
      for (auto& child : ro.peek(h))
        if (InstanceState* cs = core_.state_of(child.get())) parents_[cs->ptr()].emplace_back(s.get(), i);
    }
  }
  // delete-orphan: a child taken out of a loaded collection and given no other parent is deleted.
  for (std::size_t k = 0; k < core_.tracked().size(); ++k) {
    auto s = core_.tracked()[k];
    if (s->status != ObjectStatus::persistent) continue;
    const auto& rels = s->table().relationships;
    for (std::size_t i = 0; i < rels.size(); ++i) {
      if (!has_cascade(rels[i].cascade, Cascade::delete_orphan) || rels[i].kind == RelationshipKind::many_to_one) continue;
      const RelationOps& ro = s->ops->relations[i];
      void* h = rels[i].holder(s->ptr());
      if (!ro.is_loaded(h)) continue;
      auto now = ro.peek(h);
      for (auto& old : s->collection(i)) {
        if (std::find(now.begin(), now.end(), old) != now.end()) continue;
        InstanceState* os = core_.state_of(old.get());
        if (os && os->status == ObjectStatus::persistent && !has_other_parent(*os, *s, rels[i]))
          core_.mark_deleted(ro.target(), old);
      }
    }
  }
  // A child taken out of a collection without delete-orphan (and put in no other) loses its
  // parent: its foreign key becomes NULL, as SQLAlchemy does.
  for (const auto& s : core_.tracked()) {
    if (s->status != ObjectStatus::persistent) continue;
    const auto& rels = s->table().relationships;
    for (std::size_t i = 0; i < rels.size(); ++i) {
      const RelationshipInfo& r = rels[i];
      if (r.kind == RelationshipKind::many_to_one || r.kind == RelationshipKind::many_to_many ||
          has_cascade(r.cascade, Cascade::delete_orphan))
        continue;
      void* h = r.holder(s->ptr());
      if (!s->ops->relations[i].is_loaded(h)) continue;
      auto now = s->ops->relations[i].peek(h);
      for (auto& old : s->collection(i)) {
        if (std::find(now.begin(), now.end(), old) != now.end()) continue;
        InstanceState* cs = core_.state_of(old.get());
        if (!cs || cs->status != ObjectStatus::persistent || has_other_parent(*cs, *s, r)) continue;
        const ColumnInfo& fk = cs->table().columns[r.remote_column];
        if (!fk.nullable)
          throw UsageError("'" + cs->table().name + "' row was removed from '" + s->table().name + "." + r.name +
                           "' but its foreign key '" + fk.name + "' cannot be NULL; declare the relationship with "
                           "corm::cascade(corm::cascade_all_delete_orphan) to delete such rows, delete it, or move "
                           "it to another parent");
        SessionCore::set_column(fk, cs->ptr(), Value());
      }
    }
  }
  collect_links();
  started_at_ = core_.next_seq();
  // Rows of one table stay together (tables of one rank in order of first appearance), so
  // same-shaped INSERTs / DELETEs form one step however the objects were added. Objects of one
  // table usually come in runs: the maps are touched once per run, not once per object.
  std::unordered_set<const TableInfo*> visiting;
  std::unordered_map<const TableInfo*, std::uint64_t> first_seq;
  const TableInfo* run = nullptr;
  std::uint64_t* run_first = nullptr;
  for (const auto& s : core_.tracked()) {
    if (s->status == ObjectStatus::pending) inserts_.push_back(s.get());
    else if (s->status == ObjectStatus::deleted) deletes_.push_back(s.get());
    if (&s->table() != run) {
      run = &s->table();
      rank_of(run, rank_, visiting);
      auto [it, fresh] = first_seq.emplace(run, s->seq);
      run_first = &it->second;
    }
    *run_first = std::min(*run_first, s->seq);
  }
  // Sorted on keys read once per object: a comparator that looked the table's rank and first
  // seq up in hash maps cost a quarter of a 10,000-row flush. seq is unique, so the order is
  // total and a plain sort is stable enough.
  struct Keyed {
    std::size_t rank;
    std::uint64_t first, seq;
    InstanceState* state;
  };
  auto order = [&](std::vector<InstanceState*>& v, bool reverse) {
    std::vector<Keyed> keyed;
    keyed.reserve(v.size());
    const TableInfo* table = nullptr;
    std::size_t rank = 0;
    std::uint64_t first = 0;
    for (InstanceState* st : v) {
      if (&st->table() != table) {
        table = &st->table();
        rank = rank_[table];
        first = first_seq[table];
      }
      keyed.push_back({rank, first, st->seq, st});
    }
    auto before = [reverse](const Keyed& a, const Keyed& b) {
      const auto ka = std::tie(a.rank, a.first, a.seq), kb = std::tie(b.rank, b.first, b.seq);
      return reverse ? kb < ka : ka < kb;
    };
    // Objects added one table at a time are in order already (W5's 10,000 books).
    if (!std::is_sorted(keyed.begin(), keyed.end(), before)) std::sort(keyed.begin(), keyed.end(), before);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = keyed[i].state;
  };
  order(inserts_, false);
  order(deletes_, true);
}

bool FlushPlan::has_other_parent(const InstanceState& child, const InstanceState& parent,
                                 const RelationshipInfo& r) const {
  if (auto it = parents_.find(child.ptr()); it != parents_.end())
    for (auto& [p, rel] : it->second)
      if (p != &parent && p->status != ObjectStatus::deleted) return true;
  // Or its many-to-one side names another parent (`book->author = other`).
  const auto& crels = child.table().relationships;
  for (std::size_t i = 0; i < crels.size(); ++i) {
    if (crels[i].kind != RelationshipKind::many_to_one || crels[i].local_column != r.remote_column) continue;
    void* h = crels[i].holder(child.ptr());
    if (!child.ops->relations[i].is_loaded(h)) continue;
    auto ps = child.ops->relations[i].peek(h);
    if (!ps.empty() && ps.front() != parent.obj) return true;
  }
  return false;
}

namespace {

// Adds `obj` to / removes it from the loaded holder `h` of relationship `rel` of `owner`.
void edit_holder(InstanceState& owner, const RelationshipInfo& rel, const std::shared_ptr<void>& obj, bool add) {
  void* h = rel.holder(owner.ptr());
  const RelationOps& ro = owner.ops->relations[rel.index];
  if (!ro.is_loaded(h)) return;  // an unloaded collection picks the row up when it is loaded
  auto cur = ro.peek(h);
  auto it = std::find(cur.begin(), cur.end(), obj);
  if (add && it == cur.end()) cur.push_back(obj);
  else if (!add && it != cur.end()) cur.erase(it);
  else return;
  ro.set(h, cur);
}

// back_populates: puts `obj` into (or takes it out of) the inverse holder `inv` of `other`;
// `rel` is the relationship of `obj` that changed.
void link_inverse(SessionCore& core, const std::shared_ptr<void>& obj, const std::shared_ptr<void>& other,
                  const RelationshipInfo& rel, const RelationshipInfo& inv, bool add) {
  InstanceState* os = core.state_of(other.get());
  if (!os || os->status == ObjectStatus::detached) return;
  void* h = inv.holder(os->ptr());
  const RelationOps& ro = os->ops->relations[inv.index];
  const bool loaded = ro.is_loaded(h);
  auto cur = loaded ? ro.peek(h) : std::vector<std::shared_ptr<void>>{};
  auto it = std::find(cur.begin(), cur.end(), obj);
  if (inv.to_one()) {
    // A to-one side is set even when unloaded: its value is now known. The object it named
    // before loses `other` from its side of the pair (a child is in one parent's collection).
    if (add && (!loaded || it == cur.end())) {
      if (!cur.empty() && cur.front() && !rel.to_one())
        if (InstanceState* prev = core.state_of(cur.front().get())) edit_holder(*prev, rel, other, false);
      ro.set(h, std::span(&obj, 1));
    } else if (!add && loaded && it != cur.end()) {
      ro.set(h, {});
    }
    return;
  }
  edit_holder(*os, inv, obj, add);
}

}  // namespace

void FlushPlan::sync_back_populates() {
  // SQLAlchemy updates the other side on assignment; corm cannot see a plain assignment, so it
  // does the same at flush, comparing each loaded holder with what was last loaded / flushed.
  // To-one sides go first, collections second: when both sides were edited inconsistently, the
  // collection wins (as it does for the foreign key, see wire_foreign_keys).
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t k = 0; k < core_.tracked().size(); ++k) {
      auto s = core_.tracked()[k];
      if (s->status != ObjectStatus::pending && s->status != ObjectStatus::persistent) continue;
      const auto& rels = s->table().relationships;
      for (std::size_t i = 0; i < rels.size(); ++i) {
        const RelationshipInfo& r = rels[i];
        if (r.back_populates.empty() || r.to_one() != (pass == 0)) continue;
        const RelationshipInfo* inv = r.target().find_relationship(r.back_populates);
        if (!inv || &inv->target() != &s->table()) continue;
        void* h = r.holder(s->ptr());
        if (!s->ops->relations[i].is_loaded(h)) continue;
        auto now = s->ops->relations[i].peek(h);
        const auto& before = s->collection(i);
        for (const auto& o : now)
          if (std::find(before.begin(), before.end(), o) == before.end()) link_inverse(core_, s->obj, o, r, *inv, true);
        for (const auto& o : before)
          if (std::find(now.begin(), now.end(), o) == now.end()) link_inverse(core_, s->obj, o, r, *inv, false);
      }
    }
  }
}

void FlushPlan::collect_links() {
  // Many-to-many: association rows to write, found now because feed() moves the snapshots. Each
  // row is keyed by its association table and the two objects in column order, so a link edited
  // from both sides (book->tags and tag->books) is written once.
  std::set<std::tuple<const TableInfo*, const void*, const void*>> seen_add, seen_remove;
  auto key = [](const RelationshipInfo& r, const void* owner, const void* target) {
    if (r.secondary_local < r.secondary_remote) return std::tuple(&r.secondary(), owner, target);
    return std::tuple(&r.secondary(), target, owner);
  };
  for (const auto& s : core_.tracked()) {
    const auto& rels = s->table().relationships;
    for (std::size_t i = 0; i < rels.size(); ++i) {
      const RelationshipInfo& r = rels[i];
      if (r.kind != RelationshipKind::many_to_many) continue;
      if (s->status == ObjectStatus::deleted) {
        purges_.push_back(Link{&r, s.get(), nullptr});
        continue;
      }
      if (s->status != ObjectStatus::pending && s->status != ObjectStatus::persistent) continue;
      void* h = r.holder(s->ptr());
      if (!s->ops->relations[i].is_loaded(h)) continue;
      auto now = s->ops->relations[i].peek(h);
      const auto& before = s->collection(i);
      for (const auto& o : now) {
        if (std::find(before.begin(), before.end(), o) != before.end()) continue;
        InstanceState* os = core_.state_of(o.get());
        if (os && os->status == ObjectStatus::deleted) continue;
        if (seen_add.insert(key(r, s->ptr(), o.get())).second) link_adds_.push_back(Link{&r, s.get(), o});
      }
      for (const auto& o : before) {
        if (std::find(now.begin(), now.end(), o) != now.end()) continue;
        if (seen_remove.insert(key(r, s->ptr(), o.get())).second) link_removes_.push_back(Link{&r, s.get(), o});
      }
    }
  }
}

void FlushPlan::build_links(bool adds) {
  links_.clear();
  link_pos_ = 0;
  std::map<std::string, std::size_t> by_sql;
  auto push = [&](Compiled c) {
    auto [it, fresh] = by_sql.emplace(*c.sql, links_.size());
    if (fresh) links_.emplace_back();
    links_[it->second].statements.push_back(std::move(c));
  };
  auto owner_key = [](const Link& l) { return l.owner->table().columns[l.rel->local_column].get(l.owner->ptr()); };
  auto target_key = [](const Link& l) { return l.rel->target().columns[l.rel->remote_column].get(l.target.get()); };
  if (!adds) {
    // Rows of deleted objects first go as one DELETE per object and association table.
    for (const Link& l : purges_) {
      const TableInfo& sec = l.rel->secondary();
      sql::detail::DeleteCore dc;
      dc.table = &sec;
      dc.where = sql::detail::make_binary(sql::detail::Op::eq, sql::detail::make_column(&sec.columns[l.rel->secondary_local]),
                                          sql::detail::make_bind(owner_key(l)));
      push(sql::detail::compile(dc, core_.dialect()));
    }
    for (const Link& l : link_removes_) {
      if (l.owner->status == ObjectStatus::deleted) continue;  // purged above
      const TableInfo& sec = l.rel->secondary();
      sql::detail::DeleteCore dc;
      dc.table = &sec;
      dc.where = sql::detail::and_also(
          sql::detail::make_binary(sql::detail::Op::eq, sql::detail::make_column(&sec.columns[l.rel->secondary_local]),
                                   sql::detail::make_bind(owner_key(l))),
          sql::detail::make_binary(sql::detail::Op::eq, sql::detail::make_column(&sec.columns[l.rel->secondary_remote]),
                                   sql::detail::make_bind(target_key(l))));
      push(sql::detail::compile(dc, core_.dialect()));
    }
    return;
  }
  for (const Link& l : link_adds_) {
    InstanceState* ts = core_.state_of(l.target.get());
    if (l.owner->status != ObjectStatus::persistent || (ts && ts->status != ObjectStatus::persistent)) continue;
    const TableInfo& sec = l.rel->secondary();
    sql::detail::InsertCore ic;
    ic.table = &sec;
    std::vector<sql::detail::NodePtr> row;
    for (const ColumnInfo& c : sec.columns) {
      if (c.index == l.rel->secondary_local) row.push_back(sql::detail::make_bind(owner_key(l)));
      else if (c.index == l.rel->secondary_remote) row.push_back(sql::detail::make_bind(target_key(l)));
      else if (c.client_default && !c.identity) row.push_back(sql::detail::make_bind(c.client_default()));
      else continue;  // the database fills it (identity, server default) or it is nullable
      ic.columns.push_back(c.index);
    }
    ic.rows.push_back(std::move(row));
    push(sql::detail::compile(ic, core_.dialect()));
  }
}

bool FlushPlan::ready(const InstanceState& s) const {
  const auto& rels = s.table().relationships;
  for (std::size_t i = 0; i < rels.size(); ++i) {
    if (rels[i].kind != RelationshipKind::many_to_one) continue;
    void* h = rels[i].holder(s.ptr());
    if (!s.ops->relations[i].is_loaded(h)) continue;
    for (auto& p : s.ops->relations[i].peek(h))
      if (InstanceState* ps = core_.state_of(p.get()); ps && ps->status == ObjectStatus::pending) return false;
  }
  if (auto it = parents_.find(s.ptr()); it != parents_.end())
    for (auto& [p, rel] : it->second)
      if (p->status == ObjectStatus::pending) return false;
  return true;
}

void FlushPlan::wire_foreign_keys(InstanceState& s) {
  const auto& rels = s.table().relationships;
  for (std::size_t i = 0; i < rels.size(); ++i) {
    if (rels[i].kind != RelationshipKind::many_to_one) continue;
    void* h = rels[i].holder(s.ptr());
    if (!s.ops->relations[i].is_loaded(h)) continue;
    auto ps = s.ops->relations[i].peek(h);
    const ColumnInfo& fk = s.table().columns[rels[i].local_column];
    if (ps.empty()) continue;  // a null parent: the key member says what the row refers to
    // An unchanged relationship leaves the key member alone, so `book->author_id = 5` on an
    // object whose author was loaded is not silently reverted.
    if (s.status == ObjectStatus::persistent && std::ranges::equal(ps, s.collection(i))) continue;
    const TableInfo& pt = rels[i].target();
    Value v = pt.columns[rels[i].remote_column].get(ps.front().get());
    if (!(fk.get(s.ptr()) == v)) SessionCore::set_column(fk, s.ptr(), v);
  }
  if (auto it = parents_.find(s.ptr()); it != parents_.end()) {
    for (auto& [p, rel] : it->second) {
      if (p->status == ObjectStatus::detached || p->status == ObjectStatus::pending) continue;
      const RelationshipInfo& r = p->table().relationships[rel];
      if (r.kind == RelationshipKind::many_to_many) continue;
      const auto& before = p->collection(rel);  // already a member when loaded: nothing to wire
      if (s.status == ObjectStatus::persistent && std::find_if(before.begin(), before.end(), [&](const auto& o) {
                                                     return o.get() == s.ptr();
                                                   }) != before.end())
        continue;
      Value v = p->table().columns[r.local_column].get(p->ptr());
      const ColumnInfo& fk = s.table().columns[r.remote_column];
      if (!(fk.get(s.ptr()) == v)) SessionCore::set_column(fk, s.ptr(), v);
    }
  }
}

bool FlushPlan::build_inserts() {
  // The lowest-ranked table with pending rows; among its ready rows, the first column shape.
  std::erase_if(inserts_, [](const InstanceState* s) { return s->status != ObjectStatus::pending; });
  if (inserts_.empty()) return false;
  const TableInfo* table = &inserts_.front()->table();
  current_ = Pending{};
  std::vector<std::size_t> shape;
  bool have_shape = false;
  // Rows of one shape share one statement: it is compiled for the first row, and each further
  // row only supplies its values (checked to map one-to-one onto the placeholders; otherwise
  // every row is compiled on its own). W5's 10,000 rows compile once, not 10,000 times.
  // RETURNING reads back what the object does not hold yet — the primary key, the columns left
  // to the database (identity, server defaults) and client defaults — as SQLAlchemy does, not
  // every column: reading all of them back doubled the decoding of a 10,000-row flush (W5).
  std::optional<Compiled> proto;
  std::vector<std::size_t> columns, returned, shape_returned;
  std::vector<Value> values;
  for (InstanceState* s : inserts_) {
    if (&s->table() != table) break;
    if (!ready(*s)) continue;
    wire_foreign_keys(*s);
    columns.clear();
    returned.clear();
    values.clear();
    values.reserve(table->columns.size());  // moved into the statement below
    for (const ColumnInfo& c : table->columns) {
      bool unset = c.is_unset && c.is_unset(s->ptr());
      if (c.version && unset) {
        SessionCore::set_column(c, s->ptr(), Value(std::int64_t{1}));
      } else if (unset && (c.identity || c.server_default)) {
        returned.push_back(c.index);
        continue;
      }
      if (c.primary_key || (unset && c.client_default)) returned.push_back(c.index);
      columns.push_back(c.index);
      values.push_back((unset && c.client_default) ? c.client_default() : c.get(s->ptr()));
    }
    if (!have_shape) {
      shape = columns;
      shape_returned = returned;
      have_shape = true;
    } else if (columns != shape || returned != shape_returned) {
      continue;
    }
    current_.states.push_back(s);
    if (proto) {
      Compiled c;
      c.sql = proto->sql;
      c.params = std::move(values);
      c.from_cache = true;
      c.compiled_at = proto->compiled_at;
      current_.step.statements.push_back(std::move(c));
      continue;
    }
    sql::detail::InsertCore ic;
    ic.table = table;
    ic.columns = columns;
    std::vector<sql::detail::NodePtr> row;
    row.reserve(values.size());
    for (const Value& v : values) row.push_back(sql::detail::make_bind(v));
    ic.rows.push_back(std::move(row));
    for (std::size_t i : returned) ic.returning.push_back(sql::detail::make_column(&table->columns[i]));
    Compiled c = sql::detail::compile(ic, core_.dialect());
    if (c.params == values) proto = c;
    else current_.params_are_values = false;
    current_.step.statements.push_back(std::move(c));
  }
  current_.columns = std::move(shape);
  current_.returned = std::move(shape_returned);
  if (current_.states.empty())
    throw UsageError("flush: rows of '" + table->name + "' wait for each other (a cycle of new objects); flush the "
                     "parents first");
  return true;
}

void FlushPlan::build_updates() {
  updates_built_ = true;
  std::map<std::string, std::size_t> by_sql;
  for (const auto& sp : core_.tracked()) {
    InstanceState& s = *sp;
    if (s.status != ObjectStatus::persistent || s.expired || s.inserted_at > started_at_) continue;
    wire_foreign_keys(s);
    std::vector<Value> now = s.current_values();
    const auto& snap = s.snapshot();
    if (std::ranges::equal(now, snap)) continue;
    const TableInfo& t = s.table();
    sql::detail::UpdateCore uc;
    uc.table = &t;
    for (const ColumnInfo& c : t.columns) {
      if (c.version || c.primary_key) continue;
      if (!(now[c.index] == snap[c.index])) uc.set.emplace_back(c.index, sql::detail::make_bind(now[c.index]));
    }
    if (uc.set.empty()) continue;
    if (t.version_column) {
      uc.set.emplace_back(*t.version_column, sql::detail::make_bind(bumped(snap[*t.version_column])));
      uc.where = version_predicate(s);
    }
    uc.where = sql::detail::and_also(uc.where, sql::detail::primary_key_predicate(t, s.ptr()));
    Compiled c = sql::detail::compile(uc, core_.dialect());
    auto [it, fresh] = by_sql.emplace(*c.sql, updates_.size());
    if (fresh) updates_.emplace_back();
    updates_[it->second].states.push_back(&s);
    updates_[it->second].step.statements.push_back(std::move(c));
  }
}

bool FlushPlan::build_deletes() {
  if (deletes_.empty()) return false;
  const TableInfo* table = &deletes_.front()->table();
  current_ = Pending{};
  std::size_t n = 0;
  for (InstanceState* s : deletes_) {
    if (&s->table() != table) break;
    ++n;
    if (s->status != ObjectStatus::deleted) continue;
    sql::detail::DeleteCore dc;
    dc.table = table;
    dc.where = sql::detail::primary_key_predicate(*table, s->ptr());
    if (table->version_column) dc.where = sql::detail::and_also(version_predicate(*s), dc.where);
    current_.states.push_back(s);
    current_.step.statements.push_back(sql::detail::compile(dc, core_.dialect()));
  }
  deletes_.erase(deletes_.begin(), deletes_.begin() + static_cast<std::ptrdiff_t>(n));
  if (current_.states.empty()) return build_deletes();
  return true;
}

const Step* FlushPlan::next() {
  if (has_current_) return &current_.step;
  for (;;) {
    switch (phase_) {
      case Phase::inserts:
        if (build_inserts()) { has_current_ = true; return &current_.step; }
        phase_ = Phase::link_removes;
        build_links(false);
        break;
      case Phase::link_removes:
      case Phase::link_adds:
        if (link_pos_ < links_.size()) {
          current_ = Pending{};
          current_.step = std::move(links_[link_pos_++]);
          has_current_ = true;
          return &current_.step;
        }
        if (phase_ == Phase::link_removes) {
          phase_ = Phase::link_adds;
          build_links(true);
        } else {
          phase_ = Phase::updates;
        }
        break;
      case Phase::updates:
        if (!updates_built_) build_updates();
        if (update_pos_ < updates_.size()) {
          current_ = updates_[update_pos_++];
          has_current_ = true;
          return &current_.step;
        }
        phase_ = Phase::deletes;
        break;
      case Phase::deletes:
        if (build_deletes()) { has_current_ = true; return &current_.step; }
        phase_ = Phase::done;
        break;
      case Phase::done:
        if (!finished_) {
          finished_ = true;
          // Every loaded collection is now what the database holds: the next flush compares
          // against this (delete-orphan, removed children, moved children).
          for (const auto& s : core_.tracked()) {
            const auto& rels = s->table().relationships;
            for (std::size_t k = 0; k < rels.size(); ++k) {
              void* h = rels[k].holder(s->ptr());
              if (s->ops->relations[k].is_loaded(h)) s->record_collection(k, s->ops->relations[k].peek(h));
            }
          }
        }
        return nullptr;
    }
  }
}

void FlushPlan::feed(std::vector<Result> results) {
  if (!has_current_) throw UsageError("FlushPlan::feed without a step from next()");
  core_.note_flushed();
  if (phase_ == Phase::link_removes || phase_ == Phase::link_adds) {
    // Association rows: nothing to read back. A removed link may already be gone (deleted
    // from the other side, or by a purge of the same flush), so no row count is demanded.
    has_current_ = false;
    return;
  }
  if (results.size() != current_.states.size())
    throw UsageError("FlushPlan::feed: expected one result per statement");
  has_current_ = false;
  for (std::size_t i = 0; i < results.size(); ++i) {
    InstanceState& s = *current_.states[i];
    const Result& r = results[i];
    const TableInfo& t = s.table();
    switch (phase_) {
      case Phase::inserts: {
        if (!r.empty()) {
          Row row = r.at(0);
          for (std::size_t j = 0; j < current_.returned.size(); ++j)
            t.columns[current_.returned[j]].set_from_row(s.ptr(), row, j);
        }
        s.status = ObjectStatus::persistent;
        s.inserted_at = core_.next_seq();
        if (current_.params_are_values)
          take_inserted_snapshot(s, current_.columns, current_.step.statements[i].params, current_.returned);
        else
          s.take_snapshot();
        core_.register_key(s);
        break;
      }
      case Phase::updates: {
        if (r.rowcount() == 0) throw_stale(s, "UPDATE");
        if (t.version_column)
          SessionCore::set_column(t.columns[*t.version_column], s.ptr(), bumped(s.snapshot()[*t.version_column]));
        s.take_snapshot();
        s.written_at = core_.next_seq();
        break;
      }
      case Phase::deletes: {
        if (r.rowcount() == 0) throw_stale(s, "DELETE");
        s.written_at = core_.next_seq();
        core_.forget(s);
        break;
      }
      default:
        break;
    }
  }
  // Remember loaded collections as flushed, for the next flush's delete-orphan check.
  if (phase_ != Phase::deletes)
    for (InstanceState* s : current_.states) {
      const auto& rels = s->table().relationships;
      for (std::size_t k = 0; k < rels.size(); ++k) {
        void* h = rels[k].holder(s->ptr());
        if (s->ops->relations[k].is_loaded(h)) s->record_collection(k, s->ops->relations[k].peek(h));
      }
    }
}

}  // namespace corm::orm
