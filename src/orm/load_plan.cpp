#include "corm/orm/load_plan.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "corm/orm/session_core.hpp"
#include "corm/sql/statement/select.hpp"
#include "corm/sql/statement/update.hpp"

namespace corm::orm {

namespace {

constexpr int max_default_depth = 3;  // default eager loaders stop here (A.books <-> B.author)

sql::detail::NodePtr in_keys(const ColumnInfo& c, std::vector<Value> keys, std::string qualifier = {}) {
  return sql::detail::make_node(sql::detail::NodeKind::in_list, sql::detail::Op::in,
                                {sql::detail::make_column(&c, std::move(qualifier)),
                                 sql::detail::make_list_bind(std::move(keys))});
}

void set_holder(SessionCore& core, InstanceState& s, std::size_t rel, const std::vector<std::shared_ptr<void>>& objs,
                bool overwrite) {
  const RelationshipInfo& r = s.table().relationships[rel];
  void* h = r.holder(s.ptr());
  const RelationOps& ro = s.ops->relations[rel];
  if (ro.is_loaded(h) && !overwrite) return;
  ro.set(h, objs);
  s.collections[rel] = objs;
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
    if (!co.is_loaded(ch)) co.set(ch, {s.obj});
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
  for (std::size_t r = 0; r < ops.relations.size(); ++r) {
    if (strategy_for(ops, r, t.paths, 0) != LoaderStrategy::joined) continue;
    const RelationshipInfo& ri = ops.info->relationships[r];
    if (!ri.to_one() && (t.select.limit || t.select.offset))
      throw UsageError("joinedload of the collection '" + ops.info->name + "." + ri.name + "' with LIMIT/OFFSET would "
                       "count joined rows, not '" + ops.info->name + "' rows; use corm::selectinload for it here");
    t.joined.push_back(r);
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
  if (t.main) {
    sql::detail::SelectCore s = t.select;
    for (std::size_t r : t.joined) {
      sql::detail::join_relationship(s, *t.ops->info, r, true);
      sql::detail::add_entity_columns(s, *t.ops->relations[r].target().info);
    }
    step_.statements.push_back(sql::detail::compile(s, d));
    return true;
  }
  const RelationshipInfo& r = t.parents.front()->table().relationships[t.rel];
  step_.relationship = t.parents.front()->table().name + "." + r.name;
  const TableInfo& target = *t.ops->info;
  std::vector<Value> keys;
  std::unordered_set<std::string> seen;
  for (const auto& p : t.parents) {
    Value k = p->table().columns[r.local_column].get(p->ptr());
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
  if (t.subquery) {
    // subqueryload: the parents' query again, reduced to their key column, as an IN subquery —
    // the database re-runs the filter instead of receiving the keys.
    const TableInfo& owner = t.parents.front()->table();
    sql::detail::SelectCore inner = t.select;
    inner.columns = {sql::detail::make_column(&owner.columns[r.local_column])};
    inner.for_update = {};
    sql::detail::SelectCore s;
    sql::detail::add_entity_columns(s, target);
    s.where = sql::detail::make_select_node(sql::detail::NodeKind::in_select, sql::detail::Op::in,
                                            std::make_shared<const sql::detail::SelectCore>(std::move(inner)),
                                            sql::detail::make_column(&target.columns[r.remote_column]));
    for (std::size_t pk : target.primary_key)
      s.order_by.push_back(sql::detail::OrderTerm{sql::detail::make_column(&target.columns[pk]), false, {}});
    step_.statements.push_back(sql::detail::compile(s, d));
    return true;
  }
  const std::size_t chunk = std::max<std::size_t>(1, core_.options().in_chunk_size);
  for (std::size_t i = 0; i < keys.size(); i += chunk) {
    std::vector<Value> part(keys.begin() + static_cast<std::ptrdiff_t>(i),
                            keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + chunk)));
    sql::detail::SelectCore s;
    sql::detail::add_entity_columns(s, target);
    if (r.kind == RelationshipKind::many_to_many) {
      const TableInfo& sec = r.secondary();
      s.columns.push_back(sql::detail::make_column(&sec.columns[r.secondary_local]));
      s.from.push_back(sql::detail::FromItem{&target, {}, nullptr});
      s.joins.push_back(sql::detail::Join{
          sql::detail::FromItem{&sec, {}, nullptr},
          sql::detail::make_binary(sql::detail::Op::eq, sql::detail::make_column(&sec.columns[r.secondary_remote]),
                                   sql::detail::make_column(&target.columns[r.remote_column])),
          false});
      s.where = in_keys(sec.columns[r.secondary_local], std::move(part));
    } else {
      s.where = in_keys(target.columns[r.remote_column], std::move(part));
    }
    // Deterministic collection order: by the target's primary key.
    for (std::size_t pk : target.primary_key)
      s.order_by.push_back(sql::detail::OrderTerm{sql::detail::make_column(&target.columns[pk]), false, {}});
    step_.statements.push_back(sql::detail::compile(s, d));
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

void LoadPlan::complete_main(Task& t, const std::vector<Result>& rs) {
  const TableInfo& info = *t.ops->info;
  std::vector<std::shared_ptr<InstanceState>> roots;
  std::unordered_set<const void*> seen_roots;
  // joined children per (parent, relationship), de-duplicated, in row order
  std::vector<std::unordered_map<const void*, std::vector<std::shared_ptr<void>>>> joined(t.joined.size());
  std::vector<std::vector<std::shared_ptr<InstanceState>>> joined_states(t.joined.size());
  for (const Result& r : rs) {
    for (const Row& row : r) {
      auto s = core_.absorb(*t.ops, row, 0, refresh_);
      if (seen_roots.insert(s->ptr()).second) {
        roots.push_back(s);
        results_.push_back(s->obj);
      }
      std::size_t offset = info.columns.size();
      for (std::size_t j = 0; j < t.joined.size(); ++j) {
        const EntityOps& target = t.ops->relations[t.joined[j]].target();
        bool present = false;
        for (std::size_t pk : target.info->primary_key) present = present || !row.is_null(offset + pk);
        if (present) {
          auto cs = core_.absorb(target, row, offset, refresh_);
          auto& list = joined[j][s->ptr()];
          if (std::find(list.begin(), list.end(), cs->obj) == list.end()) {
            list.push_back(cs->obj);
            joined_states[j].push_back(cs);
          }
        } else {
          joined[j][s->ptr()];  // loaded, empty
        }
        offset += target.info->columns.size();
      }
    }
  }
  for (std::size_t j = 0; j < t.joined.size(); ++j)
    for (auto& root : roots) set_holder(core_, *root, t.joined[j], joined[j][root->ptr()], refresh_);
  main_select_ = t.select;
  plan_level(*t.ops, roots, t.paths, 0, t.joined);
  for (std::size_t j = 0; j < t.joined.size(); ++j)
    plan_level(t.ops->relations[t.joined[j]].target(), joined_states[j], below(t.paths, t.joined[j]), 1, {});
}

void LoadPlan::complete_relationship(Task& t, const std::vector<Result>& rs) {
  const RelationshipInfo& r = t.parents.front()->table().relationships[t.rel];
  const TableInfo& target = *t.ops->info;
  std::unordered_map<std::string, std::vector<std::shared_ptr<void>>> by_key;
  std::vector<std::shared_ptr<InstanceState>> children;
  std::unordered_set<const void*> seen;
  for (const Result& res : rs) {
    for (const Row& row : res) {
      auto cs = core_.absorb(*t.ops, row, 0, false);
      std::string key;
      if (r.kind == RelationshipKind::many_to_many) {
        // the association's parent key follows the entity's columns
        key = encode_key(SessionCore::cell_value(row, target.columns.size()));
      } else {
        key = encode_key(target.columns[r.remote_column].get(cs->ptr()));
      }
      by_key[key].push_back(cs->obj);
      if (seen.insert(cs->ptr()).second) children.push_back(cs);
    }
  }
  for (auto& obj : t.known) {
    by_key[encode_key(target.columns[r.remote_column].get(obj.get()))].push_back(obj);
    if (auto cs = core_.shared_state_of(obj.get()); cs && seen.insert(obj.get()).second) children.push_back(cs);
  }
  for (auto& p : t.parents) {
    auto it = by_key.find(encode_key(p->table().columns[r.local_column].get(p->ptr())));
    static const std::vector<std::shared_ptr<void>> none;
    const auto& objs = it == by_key.end() ? none : it->second;
    if (r.to_one() && objs.size() > 1) set_holder(core_, *p, t.rel, {objs.front()}, false);
    else set_holder(core_, *p, t.rel, objs, false);
  }
  plan_level(*t.ops, children, t.paths, t.depth + 1, {});
}

void LoadPlan::plan_level(const EntityOps& ops, const std::vector<std::shared_ptr<InstanceState>>& states,
                          const std::vector<Path>& paths, int depth, const std::vector<std::size_t>& done) {
  if (states.empty()) return;
  for (std::size_t r = 0; r < ops.relations.size(); ++r) {
    if (std::find(done.begin(), done.end(), r) != done.end()) continue;
    LoaderStrategy s = strategy_for(ops, r, paths, depth);
    switch (s) {
      case LoaderStrategy::selectin:
      case LoaderStrategy::joined:  // below the first level a join would multiply rows: selectin
      case LoaderStrategy::subquery: {
        Task t;
        t.ops = &ops.relations[r].target();
        t.parents = states;
        t.rel = r;
        t.paths = below(paths, r);
        t.depth = depth;
        // subqueryload embeds the parents' query: possible at the first level (below it runs
        // as selectin) and not through an association table.
        if (s == LoaderStrategy::subquery && depth == 0 &&
            ops.info->relationships[r].kind != RelationshipKind::many_to_many) {
          t.subquery = true;
          t.select = main_select_;
        }
        tasks_.push_back(std::move(t));
        break;
      }
      case LoaderStrategy::noload:
        for (auto& st : states) set_holder(core_, *st, r, {}, false);
        [[fallthrough]];
      default:
        for (auto& st : states) st->strategies[r] = s;
        break;
    }
  }
}

}  // namespace corm::orm
