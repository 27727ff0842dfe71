#include "corm/orm/flush_plan.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <unordered_set>

#include "corm/orm/errors.hpp"
#include "corm/orm/session_core.hpp"
#include "corm/sql/statement/returning.hpp"
#include "corm/sql/statement/update.hpp"

namespace corm::orm {

namespace {

std::vector<Value> values_of(const InstanceState& s) {
  std::vector<Value> out;
  for (const ColumnInfo& c : s.table().columns) out.push_back(c.get(s.ptr()));
  return out;
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
                                  sql::detail::make_bind(s.snapshot.at(v)));
}

Value bumped(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v.storage())) return Value(*i + 1);
  return Value(std::int64_t{1});
}

[[noreturn]] void throw_stale(const InstanceState& s, std::string_view verb) {
  throw StaleDataError(std::string(verb) + " of a row of '" + s.table().name +
                       "' matched no row: another transaction changed (version column) or deleted it since this "
                       "session loaded it; roll back, reload the object and retry the operation");
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
  // save-update cascade and delete-orphan through loaded holders (objects appended since add()).
  for (std::size_t k = 0; k < core_.tracked().size(); ++k) {
    auto s = core_.tracked()[k];  // tracked() may grow while we walk it
    if (s->status == ObjectStatus::detached || s->status == ObjectStatus::deleted) continue;
    const auto& rels = s->table().relationships;
    for (std::size_t i = 0; i < rels.size(); ++i) {
      const RelationOps& ro = s->ops->relations[i];
      void* h = rels[i].holder(s->ptr());
      if (!ro.is_loaded(h)) continue;
      auto now = ro.peek(h);
      if (has_cascade(rels[i].cascade, Cascade::save_update))
        for (auto& child : now)
          if (!core_.state_of(child.get())) core_.add(ro.target(), child);
      if (has_cascade(rels[i].cascade, Cascade::delete_orphan) && s->status == ObjectStatus::persistent) {
        for (auto& old : s->collections[i]) {
          if (std::find(now.begin(), now.end(), old) != now.end()) continue;
          InstanceState* os = core_.state_of(old.get());
          if (os && os->status == ObjectStatus::persistent) core_.mark_deleted(ro.target(), old);
        }
      }
      if (rels[i].kind != RelationshipKind::many_to_one)
        for (auto& child : now)
          if (InstanceState* cs = core_.state_of(child.get())) parents_[cs->ptr()].emplace_back(s.get(), i);
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
      for (auto& old : s->collections[i]) {
        if (std::find(now.begin(), now.end(), old) != now.end() || parents_.count(old.get())) continue;
        InstanceState* cs = core_.state_of(old.get());
        if (!cs || cs->status != ObjectStatus::persistent) continue;
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
  std::unordered_set<const TableInfo*> visiting;
  for (const auto& s : core_.tracked()) {
    if (s->status == ObjectStatus::pending) inserts_.push_back(s.get());
    else if (s->status == ObjectStatus::deleted) deletes_.push_back(s.get());
    rank_of(&s->table(), rank_, visiting);
  }
  // Rows of one table stay together (tables of one rank in order of first appearance), so
  // same-shaped INSERTs / DELETEs form one step however the objects were added.
  std::unordered_map<const TableInfo*, std::uint64_t> first_seq;
  for (const auto& s : core_.tracked()) {
    auto [it, fresh] = first_seq.emplace(&s->table(), s->seq);
    if (!fresh) it->second = std::min(it->second, s->seq);
  }
  auto by_rank = [&](bool reverse) {
    return [&, reverse](const InstanceState* a, const InstanceState* b) {
      std::size_t ra = rank_[&a->table()], rb = rank_[&b->table()];
      if (ra != rb) return reverse ? ra > rb : ra < rb;
      std::uint64_t fa = first_seq[&a->table()], fb = first_seq[&b->table()];
      if (fa != fb) return reverse ? fa > fb : fa < fb;
      return reverse ? a->seq > b->seq : a->seq < b->seq;
    };
  };
  std::stable_sort(inserts_.begin(), inserts_.end(), by_rank(false));
  std::stable_sort(deletes_.begin(), deletes_.end(), by_rank(true));
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
    if (s.status == ObjectStatus::persistent && ps == s.collections[i]) continue;
    const TableInfo& pt = rels[i].target();
    Value v = pt.columns[rels[i].remote_column].get(ps.front().get());
    if (!(fk.get(s.ptr()) == v)) SessionCore::set_column(fk, s.ptr(), v);
  }
  if (auto it = parents_.find(s.ptr()); it != parents_.end()) {
    for (auto& [p, rel] : it->second) {
      if (p->status == ObjectStatus::detached || p->status == ObjectStatus::pending) continue;
      const RelationshipInfo& r = p->table().relationships[rel];
      if (r.kind == RelationshipKind::many_to_many) continue;
      const auto& before = p->collections[rel];  // already a member when loaded: nothing to wire
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
  sql::detail::InsertCore proto;
  for (InstanceState* s : inserts_) {
    if (&s->table() != table) break;
    if (!ready(*s)) continue;
    wire_foreign_keys(*s);
    sql::detail::InsertCore ic;
    ic.table = table;
    std::vector<sql::detail::NodePtr> row;
    for (const ColumnInfo& c : table->columns) {
      bool unset = c.is_unset && c.is_unset(s->ptr());
      if (c.version && unset) SessionCore::set_column(c, s->ptr(), Value(std::int64_t{1}));
      else if (unset && (c.identity || c.server_default)) continue;
      Value v = (unset && c.client_default) ? c.client_default() : c.get(s->ptr());
      ic.columns.push_back(c.index);
      row.push_back(sql::detail::make_bind(std::move(v)));
    }
    if (!have_shape) {
      shape = ic.columns;
      have_shape = true;
    } else if (ic.columns != shape) {
      continue;
    }
    ic.rows.push_back(std::move(row));
    ic.returning = sql::detail::entity_columns(*table);
    current_.states.push_back(s);
    current_.step.statements.push_back(sql::detail::compile(ic, core_.dialect()));
  }
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
    if (s.status != ObjectStatus::persistent || s.expired) continue;
    wire_foreign_keys(s);
    std::vector<Value> now = values_of(s);
    if (now == s.snapshot) continue;
    const TableInfo& t = s.table();
    sql::detail::UpdateCore uc;
    uc.table = &t;
    for (const ColumnInfo& c : t.columns) {
      if (c.version || c.primary_key) continue;
      if (!(now[c.index] == s.snapshot[c.index])) uc.set.emplace_back(c.index, sql::detail::make_bind(now[c.index]));
    }
    if (uc.set.empty()) continue;
    if (t.version_column) {
      uc.set.emplace_back(*t.version_column, sql::detail::make_bind(bumped(s.snapshot[*t.version_column])));
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
        phase_ = Phase::updates;
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
              if (s->ops->relations[k].is_loaded(h)) s->collections[k] = s->ops->relations[k].peek(h);
            }
          }
        }
        return nullptr;
    }
  }
}

void FlushPlan::feed(std::vector<Result> results) {
  if (!has_current_) throw UsageError("FlushPlan::feed without a step from next()");
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
          std::vector<std::size_t> ords(t.columns.size());
          for (std::size_t k = 0; k < ords.size(); ++k) ords[k] = k;
          Row row = r.at(0);
          for (const ColumnInfo& c : t.columns) c.set_from_row(s.ptr(), row, c.index);
        }
        s.status = ObjectStatus::persistent;
        s.inserted_at = core_.next_seq();
        s.snapshot = values_of(s);
        core_.register_key(s);
        break;
      }
      case Phase::updates: {
        if (r.rowcount() == 0) throw_stale(s, "UPDATE");
        if (t.version_column)
          SessionCore::set_column(t.columns[*t.version_column], s.ptr(), bumped(s.snapshot[*t.version_column]));
        s.snapshot = values_of(s);
        s.written_at = core_.next_seq();
        break;
      }
      case Phase::deletes: {
        if (r.rowcount() == 0) throw_stale(s, "DELETE");
        s.written_at = core_.next_seq();
        core_.forget(s);
        break;
      }
      case Phase::done:
        break;
    }
  }
  // Remember loaded collections as flushed, for the next flush's delete-orphan check.
  if (phase_ != Phase::deletes)
    for (InstanceState* s : current_.states) {
      const auto& rels = s->table().relationships;
      for (std::size_t k = 0; k < rels.size(); ++k) {
        void* h = rels[k].holder(s->ptr());
        if (s->ops->relations[k].is_loaded(h)) s->collections[k] = s->ops->relations[k].peek(h);
      }
    }
}

}  // namespace corm::orm
