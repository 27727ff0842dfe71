#include "corm/orm/detail/load_plan.hpp"

#include <algorithm>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>

#include "corm/orm/errors.hpp"
#include "corm/orm/detail/session_core.hpp"
#include "corm/sql/statement/select.hpp"
#include "corm/sql/statement/update.hpp"

namespace corm::orm {

namespace {

constexpr int max_default_depth = 3;  // default eager loaders stop here (A.books <-> B.author)

namespace sd = sql::detail;

bool is_integer(ColumnType t) noexcept {
  return t == ColumnType::int16 || t == ColumnType::int32 || t == ColumnType::int64;
}

// The integer primary key of a loaded object (NULL never reaches here: a loaded row has a key).
std::int64_t int_key(const ColumnInfo& pk, const std::shared_ptr<void>& obj) {
  const Value v = pk.get(obj.get());
  const auto* i = std::get_if<std::int64_t>(&v.storage());
  return i ? *i : 0;
}

sd::NodePtr in_keys(const ColumnInfo& c, std::vector<Value> keys) {
  return sd::make_node(sd::NodeKind::in_list, sd::Op::in, {sd::make_column(&c), sd::make_list_bind(std::move(keys))});
}

sd::NodePtr eq(const ColumnInfo& a, std::string qa, const ColumnInfo& b, std::string qb) {
  return sd::make_binary(sd::Op::eq, sd::make_column(&a, std::move(qa)), sd::make_column(&b, std::move(qb)));
}

// The column of a relationship statement that holds the parents' key: the target's foreign key
// (or referred column), or the association table's column referring to the parents.
const ColumnInfo& key_column(const RelationshipInfo& r, const TableInfo& target) {
  if (r.kind == RelationshipKind::many_to_many) return r.secondary().columns[r.secondary_local];
  return target.columns[r.remote_column];
}

// SELECT the target's columns (plus the association's parent key for many_to_many, so rows can
// be grouped by parent) WHERE `key_pred`.
sd::SelectCore relationship_select(const RelationshipInfo& r, const TableInfo& target, sd::NodePtr key_pred) {
  sd::SelectCore s;
  sd::add_entity_columns(s, target);
  if (r.kind == RelationshipKind::many_to_many) {
    const TableInfo& sec = r.secondary();
    s.columns.push_back(sd::make_column(&sec.columns[r.secondary_local]));
    s.from.push_back(sd::FromItem{&target, {}, nullptr});
    s.joins.push_back(sd::Join{sd::FromItem{&sec, {}, nullptr},
                               eq(sec.columns[r.secondary_remote], {}, target.columns[r.remote_column], {}), false});
  }
  s.where = std::move(key_pred);
  return s;
}

// `key IN (SELECT owner_key FROM <source>)`: subqueryload's predicate. The source keeps its
// filter, joins and LIMIT; its FROM is made explicit so the embedded query never correlates
// with a statement of the same table around it (self references, author -> books -> author).
sd::NodePtr embed(const sd::SelectCore& source, const ColumnInfo& owner_key, const ColumnInfo& key) {
  sd::SelectCore inner = source;
  if (inner.from.empty() && inner.parts.empty()) inner.from = sd::effective_from(inner);
  inner.columns = {sd::make_column(&owner_key)};
  inner.for_update = {};
  if (!inner.limit && !inner.offset) inner.order_by.clear();
  return sd::make_select_node(sd::NodeKind::in_select, sd::Op::in, std::make_shared<const sd::SelectCore>(std::move(inner)),
                              sd::make_column(&key));
}

void set_holder(SessionCore& core, InstanceState& s, std::size_t rel, std::span<const std::shared_ptr<void>> objs,
                bool overwrite) {
  const RelationshipInfo& r = s.table().relationships[rel];
  void* h = r.holder(s.ptr());
  const RelationOps& ro = s.ops->relations[rel];
  if (ro.is_loaded(h) && !overwrite) return;
  ro.set(h, objs);
  s.record_collection(rel, objs);
  // back_populates: a loaded collection also answers each child's many-to-one side, so reading
  // book->author after selectinload(&Author::books) sends nothing.
  if (r.back_populates.empty() || r.to_one()) return;
  const TableInfo& target = r.target();
  const RelationshipInfo* inverse = target.find_relationship(r.back_populates);
  if (!inverse || !inverse->to_one()) return;
  for (const auto& child : objs) {
    InstanceState* cs = core.state_of(child.get());
    if (!cs) continue;
    void* ch = inverse->holder(cs->ptr());
    const RelationOps& co = cs->ops->relations[inverse->index];
    if (!co.is_loaded(ch)) {
      co.set(ch, std::span(&s.obj, 1));
      cs->record_collection(inverse->index, std::span(&s.obj, 1));  // as loaded, so the flush sees no change
    }
  }
}

}  // namespace

LoadPlan::LoadPlan(SessionCore& core, const EntityOps& ops, sql::detail::SelectCore select,
                   const std::vector<LoadOption>& options, bool refresh)
    : core_(core), refresh_(refresh || select.for_update.enabled) {
  Task t;
  t.ops = &ops;
  t.main = true;
  t.select = std::move(select);
  for (const LoadOption& o : options) {
    if (o.path().empty()) continue;
    if (o.path().front().owner != &ops)
      throw UsageError("loader option for '" + o.path().front().owner->info->name + "' given to a query of '" +
                       ops.info->name + "': an option path must start at the queried model");
    t.paths.push_back(o.path());
  }
  t.joins = plan_joins(ops, t.paths, 0);
  if (t.select.limit || t.select.offset)
    for (const JoinNode& j : t.joins) {
      const RelationshipInfo& ri = j.owner->info->relationships[j.rel];
      if (ri.to_one()) continue;
      throw UsageError("joinedload of the collection '" + j.owner->info->name + "." + ri.name + "' with LIMIT/OFFSET "
                       "would count joined rows, not '" + ops.info->name + "' rows; use corm::selectinload for it here");
    }
  if (t.select.for_update.enabled && core_.dialect() == Dialect::sqlite) {
    // SQLite has no row locks and renders no FOR UPDATE. What a locking read must guarantee —
    // nobody else writes what we read until we commit — needs the database write lock, taken
    // before the read (as BEGIN IMMEDIATE would) so read-modify-write cycles queue on the busy
    // timeout instead of failing with SQLITE_BUSY when they upgrade.
    Task lock;
    lock.ops = &ops;
    lock.lock = true;
    tasks_.push_back(std::move(lock));
  }
  tasks_.push_back(std::move(t));
}

LoadPlan::LoadPlan(SessionCore& core, const EntityOps& ops, Compiled statement) : core_(core) {
  Task t;
  t.ops = &ops;
  t.main = true;
  t.compiled = std::move(statement);
  tasks_.push_back(std::move(t));
}

LoadPlan::LoadPlan(SessionCore& core, std::vector<std::shared_ptr<InstanceState>> parents, std::size_t rel, bool lazy)
    : core_(core), lazy_(lazy) {
  Task t;
  t.ops = &parents.front()->ops->relations[rel].target();
  t.parents = std::move(parents);
  t.rel = rel;
  t.depth = max_default_depth;  // an explicit load does not start default eager chains
  tasks_.push_back(std::move(t));
}

LoaderStrategy LoadPlan::strategy_for(const EntityOps& ops, std::size_t rel, const std::vector<Path>& paths,
                                      int depth) const {
  LoaderStrategy s = ops.info->relationships[rel].default_loader;
  if (depth >= max_default_depth && (s == LoaderStrategy::selectin || s == LoaderStrategy::joined ||
                                     s == LoaderStrategy::subquery))
    s = LoaderStrategy::lazy;
  for (const Path& p : paths)
    if (p.front().owner == &ops && p.front().relationship == rel && p.size() == 1) s = p.front().strategy;
  // A longer path through `rel` (selectinload(a).selectinload(b)) loads `rel` too.
  for (const Path& p : paths)
    if (p.front().owner == &ops && p.front().relationship == rel && p.size() > 1 &&
        (s == LoaderStrategy::lazy || s == LoaderStrategy::raise || s == LoaderStrategy::noload))
      s = p.front().strategy;
  return s;
}

std::vector<LoadPlan::Path> LoadPlan::below(const std::vector<Path>& paths, std::size_t rel) {
  std::vector<Path> out;
  for (const Path& p : paths)
    if (p.front().relationship == rel && p.size() > 1) out.emplace_back(p.begin() + 1, p.end());
  return out;
}

bool LoadPlan::build(Task& t) {
  step_ = Step{};
  step_.lazy = lazy_;
  const Dialect d = core_.dialect();
  if (t.lock) {
    const TableInfo& info = *t.ops->info;
    const ColumnInfo& pk = info.columns[info.primary_key.at(0)];
    sql::detail::UpdateCore uc;
    uc.table = &info;
    uc.set.emplace_back(pk.index, sql::detail::make_column(&pk));
    uc.where = sql::detail::make_bind(Value(false));
    step_.statements.push_back(sql::detail::compile(uc, d));
    return true;
  }
  if (t.main && t.compiled) {
    step_.statements.push_back(std::move(*t.compiled));  // built once per task
    return true;
  }
  if (t.main) {
    sd::SelectCore s = t.select;
    add_joins(s, t.joins);
    step_.statements.push_back(sd::compile(s, d));
    return true;
  }
  const TableInfo& owner = t.parents.front()->table();
  const RelationshipInfo& r = owner.relationships[t.rel];
  step_.relationship = owner.name + "." + r.name;
  const TableInfo& target = *t.ops->info;
  std::vector<Value> keys;
  std::unordered_set<std::string> seen;
  for (const auto& p : t.parents) {
    Value k = owner.columns[r.local_column].get(p->ptr());
    if (k.is_null()) continue;
    if (r.kind == RelationshipKind::many_to_one) {
      const ColumnInfo& remote = target.columns[r.remote_column];
      if (remote.primary_key && target.primary_key.size() == 1) {
        Value kk = k;
        if (auto obj = core_.lookup(*t.ops, std::span<const Value>(&kk, 1))) {
          t.known.push_back(obj);
          continue;
        }
      }
    }
    if (seen.insert(encode_key(k)).second) keys.push_back(std::move(k));
  }
  if (keys.empty()) return false;
  const ColumnInfo& kc = key_column(r, target);
  std::vector<sd::NodePtr> preds;
  if (t.subquery) {
    // subqueryload: the parents' query again, reduced to their key column, as an IN subquery —
    // the database re-runs the filter instead of receiving the keys.
    preds.push_back(embed(t.select, owner.columns[r.local_column], kc));
  } else {
    const DialectTraits& traits = dialect_traits(d);
    std::size_t chunk = std::max<std::size_t>(1, core_.options().in_chunk_size);
    // Room for the few other values a relationship statement may bind.
    if (traits.max_bound_parameters > 0) chunk = std::min(chunk, traits.max_bound_parameters - 64);
    for (std::size_t i = 0; i < keys.size(); i += chunk) {
      std::vector<Value> part(keys.begin() + static_cast<std::ptrdiff_t>(i),
                              keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + chunk)));
      // Where each list length is its own statement, the last chunk repeats its last key up to
      // the chunk's length (a repeated IN item matches nothing twice): every chunk is then the
      // same SQL, one prepared statement and one batch.
      if (traits.expands_in_lists && i > 0)
        while (part.size() < chunk) part.push_back(part.back());
      preds.push_back(in_keys(kc, std::move(part)));
    }
  }
  // Collections come back in the order of the target's primary key. For a single integer key
  // and no eager joins below, complete_relationship sorts each collection (about ten objects in
  // W4) instead: ORDER BY made PostgreSQL walk the whole key index with the IN list as a filter
  // (10,000 books: 8.5 ms per statement against 5.6 ms unordered, from the server's log).
  t.order_on_client = t.joins.empty() && r.kind != RelationshipKind::many_to_many && target.primary_key.size() == 1 &&
                      is_integer(target.columns[target.primary_key.front()].type);
  for (auto& pred : preds) {
    sd::SelectCore s = relationship_select(r, target, std::move(pred));
    // One statement that fetched every object of this level can stand for them in a
    // subqueryload below; objects found in the identity map were not fetched by it.
    if (preds.size() == 1 && t.known.empty()) t.source = s;
    add_joins(s, t.joins);
    if (!t.order_on_client)
      for (std::size_t pk : target.primary_key)
        s.order_by.push_back(sd::OrderTerm{sd::make_column(&target.columns[pk]), false, {}});
    step_.statements.push_back(sd::compile(s, d));
  }
  return true;
}

const Step* LoadPlan::next() {
  while (!tasks_.empty()) {
    if (issued_) return &step_;
    if (build(tasks_.front())) {
      issued_ = true;
      return &step_;
    }
    Task t = std::move(tasks_.front());
    tasks_.pop_front();
    complete_relationship(t, {});
  }
  return nullptr;
}

void LoadPlan::feed(std::vector<Result> results) {
  if (!issued_ || tasks_.empty()) throw UsageError("LoadPlan::feed without a step from next()");
  issued_ = false;
  Task t = std::move(tasks_.front());
  tasks_.pop_front();
  if (t.lock) return;
  if (t.main) complete_main(t, results);
  else complete_relationship(t, results);
}

std::vector<LoadPlan::JoinNode> LoadPlan::plan_joins(const EntityOps& ops, const std::vector<Path>& paths,
                                                     int depth) const {
  std::vector<JoinNode> out;
  int aliases = 0;
  // Anonymous aliases (SQLAlchemy's "books_1"): the query may join the same tables itself, and a
  // chain may reach one table twice (authors -> books -> author).
  auto alias = [&](const TableInfo& t) { return t.name.substr(0, 40) + "_" + std::to_string(++aliases); };
  auto add = [&](auto& self, int parent, const EntityOps& owner, const std::vector<Path>& ps, int d) -> void {
    for (std::size_t r = 0; r < owner.relations.size(); ++r) {
      if (strategy_for(owner, r, ps, d) != LoaderStrategy::joined) continue;
      const RelationshipInfo& ri = owner.info->relationships[r];
      JoinNode j;
      j.parent = parent;
      j.owner = &owner;
      j.rel = r;
      j.target = &owner.relations[r].target();
      j.paths = below(ps, r);
      j.depth = d + 1;
      if (ri.kind == RelationshipKind::many_to_many) j.secondary_alias = alias(ri.secondary());
      j.alias = alias(*j.target->info);
      out.push_back(std::move(j));
      const JoinNode& added = out.back();
      const EntityOps& target = *added.target;
      std::vector<Path> below_paths = added.paths;
      self(self, static_cast<int>(out.size()) - 1, target, below_paths, d + 1);
    }
  };
  add(add, -1, ops, paths, depth);
  return out;
}

void LoadPlan::add_joins(sd::SelectCore& s, const std::vector<JoinNode>& joins) {
  for (const JoinNode& j : joins) {
    const TableInfo& owner = *j.owner->info;
    const TableInfo& target = *j.target->info;
    const RelationshipInfo& r = owner.relationships[j.rel];
    std::string pq = j.parent < 0 ? std::string() : joins[static_cast<std::size_t>(j.parent)].alias;
    if (r.kind == RelationshipKind::many_to_many) {
      const TableInfo& sec = r.secondary();
      s.joins.push_back(sd::Join{sd::FromItem{&sec, j.secondary_alias, nullptr},
                                 eq(owner.columns[r.local_column], pq, sec.columns[r.secondary_local], j.secondary_alias),
                                 true});
      s.joins.push_back(sd::Join{sd::FromItem{&target, j.alias, nullptr},
                                 eq(sec.columns[r.secondary_remote], j.secondary_alias, target.columns[r.remote_column], j.alias),
                                 true});
    } else {
      s.joins.push_back(sd::Join{sd::FromItem{&target, j.alias, nullptr},
                                 eq(owner.columns[r.local_column], pq, target.columns[r.remote_column], j.alias), true});
    }
    for (const ColumnInfo& c : target.columns) s.columns.push_back(sd::make_column(&c, j.alias));
  }
}

void LoadPlan::read_joined(const std::vector<JoinNode>& joins, const Row& row, const std::shared_ptr<InstanceState>& root,
                           std::size_t first, std::vector<JoinedRows>& acc, bool overwrite) {
  if (joins.empty()) return;
  std::vector<std::shared_ptr<InstanceState>> objs(joins.size());
  std::size_t offset = first;
  for (std::size_t n = 0; n < joins.size(); ++n) {
    const JoinNode& j = joins[n];
    const TableInfo& target = *j.target->info;
    const std::shared_ptr<InstanceState>& parent = j.parent < 0 ? root : objs[static_cast<std::size_t>(j.parent)];
    if (parent) {
      JoinedRows& a = acc[n];
      auto [it, fresh] = a.children.try_emplace(parent->ptr());
      if (fresh) a.parents.push_back(parent);  // loaded, maybe empty
      bool present = false;
      for (std::size_t pk : target.primary_key) present = present || !row.is_null(offset + pk);
      if (present) {
        auto cs = core_.absorb(*j.target, row, offset, overwrite);
        objs[n] = cs;
        // The same child comes back once per row of whatever was joined beside or below it.
        if (a.seen[parent->ptr()].insert(cs->ptr()).second) it->second.push_back(cs->obj);
        if (a.state_seen.insert(cs->ptr()).second) a.states.push_back(cs);
      }
    }
    offset += target.columns.size();
  }
}

void LoadPlan::finish_joined(const std::vector<JoinNode>& joins, std::vector<JoinedRows>& acc, bool overwrite,
                             const std::optional<sd::SelectCore>& root_source) {
  std::vector<std::optional<sd::SelectCore>> sources(joins.size());
  for (std::size_t n = 0; n < joins.size(); ++n) {
    const JoinNode& j = joins[n];
    const TableInfo& owner = *j.owner->info;
    const RelationshipInfo& r = owner.relationships[j.rel];
    for (auto& p : acc[n].parents) {
      const auto& objs = acc[n].children[p->ptr()];
      if (r.to_one() && objs.size() > 1) set_holder(core_, *p, j.rel, std::span(objs).first(1), overwrite);
      else set_holder(core_, *p, j.rel, objs, overwrite);
    }
    // The objects of this link as a query of their own, for a subqueryload below it.
    const auto& parent_source = j.parent < 0 ? root_source : sources[static_cast<std::size_t>(j.parent)];
    if (parent_source)
      sources[n] = relationship_select(r, *j.target->info,
                                       embed(*parent_source, owner.columns[r.local_column], key_column(r, *j.target->info)));
    std::vector<std::size_t> done;
    for (const JoinNode& k : joins)
      if (k.parent == static_cast<int>(n)) done.push_back(k.rel);
    plan_level(*j.target, acc[n].states, j.paths, j.depth, done, sources[n]);
  }
}

std::size_t LoadPlan::rows_per_fetch(std::size_t yield_per) const noexcept {
  if (!issued_ || tasks_.empty() || step_.statements.size() != 1) return 0;
  const Task& t = tasks_.front();
  if (t.lock) return 0;
  if (t.main) return yield_per;
  if (core_.dialect() != Dialect::postgresql || t.parents.size() < eager_slice_min_parents) return 0;
  return core_.options().eager_yield_per;
}

void LoadPlan::feed_slice(const Result& slice) {
  if (!issued_ || tasks_.empty() || tasks_.front().lock)
    throw UsageError("LoadPlan::feed_slice without a step from next() that reads rows");
  const Task& t = tasks_.front();
  if (t.main) absorb_main(t, main_rows(t), slice);
  else absorb_relationship(t, rel_rows(t), slice);
}

LoadPlan::MainRows& LoadPlan::main_rows(const Task& t) {
  if (!main_rows_) {
    main_rows_.emplace();
    main_rows_->mark = core_.next_load_mark();
    main_rows_->acc.resize(t.joins.size());
  }
  return *main_rows_;
}

void LoadPlan::absorb_main(const Task& t, MainRows& m, const Result& r) {
  const TableInfo& info = *t.ops->info;
  const std::size_t rows = r.size();
  core_.reserve_more(rows);
  // The roots are only wanted to load relationships from; a model without any skips a
  // reference count increment and decrement per row.
  const bool keep_roots = !t.ops->relations.empty();
  // Geometric: a read in slices comes here once per slice.
  auto make_room = [rows](auto& v) {
    const std::size_t need = v.size() + rows;
    if (need > v.capacity()) v.reserve(std::max(need, v.capacity() * 2));
  };
  if (keep_roots) make_room(m.roots);
  make_room(results_);
  for (const Row& row : r) {
    auto s = core_.absorb(*t.ops, row, 0, refresh_);
    if (std::exchange(s->load_mark, m.mark) != m.mark) {
      if (keep_roots) m.roots.push_back(s);
      results_.push_back(s->obj);
    }
    read_joined(t.joins, row, s, info.columns.size(), m.acc, refresh_);
  }
}

void LoadPlan::complete_main(Task& t, const std::vector<Result>& rs) {
  MainRows& m = main_rows(t);
  for (const Result& r : rs) absorb_main(t, m, r);
  MainRows done_rows = std::move(m);
  main_rows_.reset();
  std::vector<std::size_t> done;
  for (const JoinNode& j : t.joins)
    if (j.parent < 0) done.push_back(j.rel);
  std::optional<sd::SelectCore> source;
  if (!t.compiled) source = t.select;  // a precompiled get() has no select to embed
  plan_level(*t.ops, done_rows.roots, t.paths, 0, done, source);
  finish_joined(t.joins, done_rows.acc, refresh_, source);
}

// What a relationship load's rows have produced so far: they may come in several slices (a
// cursor read), each absorbed as it arrives; complete_relationship() then fills the holders.
struct LoadPlan::RelRows {
  struct Group {
    explicit Group(std::pmr::memory_resource* pool) : objs(pool) {}
    std::pmr::vector<std::shared_ptr<void>> objs;  // a thousand small vectors: from the session's pool
    std::unordered_set<const void*> seen;
    std::size_t count = 0;
  };
  RelRows(SessionCore& session, const Task& t)
      : core(session),
        m2m(t.parents.front()->table().relationships[t.rel].kind == RelationshipKind::many_to_many),
        // A row can name the same child twice only through joined rows, association rows or a
        // child the identity map already supplied; a plain selectin load of a one-to-many (W4's
        // shape: 10,000 books) skips the de-duplication sets.
        may_repeat(m2m || !t.joins.empty() || !t.known.empty()),
        mark(session.next_load_mark()),
        acc(t.joins.size()) {}

  Group& group_for(const Value& key) {
    const auto* i = std::get_if<std::int64_t>(&key.storage());
    return i ? by_int.try_emplace(*i, core.pool()).first->second
             : by_key.try_emplace(encode_key(key), core.pool()).first->second;
  }
  void add_to(const Value& key, const std::shared_ptr<void>& obj) {
    Group& g = group_for(key);
    if (g.seen.insert(obj.get()).second) g.objs.push_back(obj);
  }
  const Group* group_of(const Value& key) const {
    if (const auto* i = std::get_if<std::int64_t>(&key.storage())) {
      auto it = by_int.find(*i);
      return it == by_int.end() ? nullptr : &it->second;
    }
    auto it = by_key.find(encode_key(key));
    return it == by_key.end() ? nullptr : &it->second;
  }

  SessionCore& core;
  const bool m2m;
  const bool may_repeat;
  const std::uint64_t mark;  // joined rows repeat a child
  // Integer keys (nearly every foreign key) group without building a string per child.
  std::unordered_map<std::int64_t, Group> by_int;
  std::unordered_map<std::string, Group> by_key;
  // Without repeats the rows are grouped in two passes — count, then fill vectors sized once —
  // instead of growing a vector per parent (five reallocations for ten children).
  std::vector<std::pair<Group*, const InstanceState*>> placed;
  std::vector<std::shared_ptr<InstanceState>> children;
  std::vector<JoinedRows> acc;
};

LoadPlan::~LoadPlan() = default;
LoadPlan::LoadPlan(LoadPlan&&) noexcept = default;

LoadPlan::RelRows& LoadPlan::rel_rows(const Task& t) {
  if (!rel_rows_) rel_rows_ = std::make_unique<RelRows>(core_, t);
  return *rel_rows_;
}

void LoadPlan::absorb_relationship(const Task& t, RelRows& g, const Result& res) {
  const RelationshipInfo& r = t.parents.front()->table().relationships[t.rel];
  const TableInfo& target = *t.ops->info;
  const std::size_t rows = res.size();
  core_.reserve_more(rows);
  // Geometric: a read in slices comes here once per slice.
  auto make_room = [rows](auto& v) {
    const std::size_t need = v.size() + rows;
    if (need > v.capacity()) v.reserve(std::max(need, v.capacity() * 2));
  };
  make_room(g.children);
  if (!g.may_repeat) make_room(g.placed);
  // the association's parent key follows the entity's columns; joined entities follow both
  const std::size_t joined_first = target.columns.size() + (g.m2m ? 1 : 0);
  for (const Row& row : res) {
    auto cs = core_.absorb(*t.ops, row, 0, false);
    if (g.m2m) {
      g.add_to(SessionCore::cell_value(row, target.columns.size()), cs->obj);
    } else if (g.may_repeat) {
      g.add_to(target.columns[r.remote_column].get(cs->ptr()), cs->obj);
    } else {
      RelRows::Group& grp = g.group_for(target.columns[r.remote_column].get(cs->ptr()));
      ++grp.count;
      g.placed.emplace_back(&grp, cs.get());  // the identity map keeps the state alive
    }
    if (std::exchange(cs->load_mark, g.mark) != g.mark) g.children.push_back(cs);
    read_joined(t.joins, row, cs, joined_first, g.acc, false);
  }
}

void LoadPlan::complete_relationship(Task& t, const std::vector<Result>& rs) {
  for (const Result& res : rs) absorb_relationship(t, rel_rows(t), res);
  RelRows& g = rel_rows(t);
  const std::unique_ptr<RelRows> done_rows = std::move(rel_rows_);
  const RelationshipInfo& r = t.parents.front()->table().relationships[t.rel];
  const TableInfo& target = *t.ops->info;
  for (auto& [key, grp] : g.by_int) grp.objs.reserve(grp.count);
  for (auto& [key, grp] : g.by_key) grp.objs.reserve(grp.count);
  for (const auto& [grp, cs] : g.placed) grp->objs.push_back(cs->obj);
  std::vector<std::shared_ptr<InstanceState>> from_map;  // not in the rows: no joined data
  for (auto& obj : t.known) {
    g.add_to(target.columns[r.remote_column].get(obj.get()), obj);
    if (auto cs = core_.shared_state_of(obj.get()); cs && std::exchange(cs->load_mark, g.mark) != g.mark)
      from_map.push_back(cs);
  }
  if (t.order_on_client) {
    // Rows usually arrive in key order already (heap order of rows inserted in key order), so
    // the check is the common cost; a collection is sorted only when it is out of order.
    const ColumnInfo& pk = target.columns[target.primary_key.front()];
    auto key_less = [&](const std::shared_ptr<void>& a, const std::shared_ptr<void>& b) {
      return int_key(pk, a) < int_key(pk, b);
    };
    auto order = [&](RelRows::Group& grp) {
      if (!std::is_sorted(grp.objs.begin(), grp.objs.end(), key_less))
        std::sort(grp.objs.begin(), grp.objs.end(), key_less);
    };
    for (auto& [key, grp] : g.by_int) order(grp);
    for (auto& [key, grp] : g.by_key) order(grp);
  }
  for (auto& p : t.parents) {
    const RelRows::Group* grp = g.group_of(p->table().columns[r.local_column].get(p->ptr()));
    std::span<const std::shared_ptr<void>> objs;
    if (grp) objs = grp->objs;
    if (r.to_one() && objs.size() > 1) set_holder(core_, *p, t.rel, objs.first(1), false);
    else set_holder(core_, *p, t.rel, objs, false);
  }
  std::vector<std::size_t> done;
  for (const JoinNode& j : t.joins)
    if (j.parent < 0) done.push_back(j.rel);
  plan_level(*t.ops, g.children, t.paths, t.depth + 1, done, t.source);
  plan_level(*t.ops, from_map, t.paths, t.depth + 1, {}, std::nullopt);
  finish_joined(t.joins, g.acc, false, t.source);
}

void LoadPlan::plan_level(const EntityOps& ops, const std::vector<std::shared_ptr<InstanceState>>& states,
                          const std::vector<Path>& paths, int depth, const std::vector<std::size_t>& done,
                          const std::optional<sd::SelectCore>& source) {
  if (states.empty()) return;
  for (std::size_t r = 0; r < ops.relations.size(); ++r) {
    if (std::find(done.begin(), done.end(), r) != done.end()) continue;
    LoaderStrategy s = strategy_for(ops, r, paths, depth);
    switch (s) {
      case LoaderStrategy::selectin:
      case LoaderStrategy::joined:  // objects that came from the identity map, not from joined rows
      case LoaderStrategy::subquery: {
        Task t;
        t.ops = &ops.relations[r].target();
        t.parents = states;
        t.rel = r;
        t.paths = below(paths, r);
        t.depth = depth;
        t.joins = plan_joins(*t.ops, t.paths, depth + 1);
        // subqueryload embeds the query that fetched these objects; when no single statement
        // did (several selectin chunks, objects from the identity map) it runs as selectin.
        if (s == LoaderStrategy::subquery && source) {
          t.subquery = true;
          t.select = *source;
        }
        tasks_.push_back(std::move(t));
        break;
      }
      case LoaderStrategy::noload:
        for (auto& st : states) set_holder(core_, *st, r, {}, false);
        [[fallthrough]];
      default:
        for (auto& st : states) st->set_strategy(r, s);
        break;
    }
  }
}

}  // namespace corm::orm
