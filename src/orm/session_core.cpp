#include "corm/orm/detail/session_core.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <string>

#include "corm/core/result_set.hpp"
#include "corm/orm/errors.hpp"
#include "corm/sql/schema/hydrate.hpp"
#include "corm/sql/statement/returning.hpp"
#include "corm/sql/statement/select.hpp"
#include "corm/sql/statement/detail/statement_core.hpp"
#include "corm/sql/statement/update.hpp"
#include "core/pg_binary.hpp"
#include "orm/session_maps.hpp"

namespace corm::orm {

namespace {

// The lookups of finished sessions, kept per thread for the next session with their tables
// allocated: a session that tracks a few objects otherwise allocates the struct and both tables
// and frees them again (bench W1, a fresh session per get: three of its allocations). A few
// small ones only, so that a session which loaded 100,000 rows does not pin its tables.
class MapsCache {
 public:
  static constexpr std::size_t keep = 4;
  static constexpr std::size_t max_buckets = 1024;

  ~MapsCache() { gone = true; }
  std::unique_ptr<SessionMaps> take() {
    if (count_ == 0) return std::make_unique<SessionMaps>();
    return std::move(free_[--count_]);
  }
  void give(std::unique_ptr<SessionMaps> m) noexcept {
    if (count_ == keep || m->states.bucket_count() > max_buckets || m->identity.bucket_count() > max_buckets) return;
    m->states.clear();
    m->identity.clear();
    m->spare_order.clear();
    free_[count_++] = std::move(m);
  }
  // Trivially destructible, so readable while the thread's other objects are being destroyed:
  // a session destroyed after the cache (a thread_local session, say) frees its maps itself.
  static thread_local bool gone;

 private:
  std::array<std::unique_ptr<SessionMaps>, keep> free_;
  std::size_t count_ = 0;
};
thread_local bool MapsCache::gone = false;

MapsCache* maps_cache() {
  if (MapsCache::gone) return nullptr;
  thread_local MapsCache cache;
  return &cache;
}

std::unique_ptr<SessionMaps> take_maps() {
  MapsCache* c = maps_cache();
  return c ? c->take() : std::make_unique<SessionMaps>();
}

void give_maps(std::unique_ptr<SessionMaps> m) noexcept {
  if (!m) return;
  if (MapsCache* c = maps_cache()) c->give(std::move(m));
}

std::string attribute_name(const InstanceState& s, std::size_t rel) {
  return s.table().name + "." + s.table().relationships[rel].name;
}

// The identity key of object `obj` of table `t`: no vector for the common single-column key.
IdentityKey key_of(const TableInfo& t, const void* obj) {
  if (t.primary_key.size() == 1) return IdentityKey::of(&t, t.columns[t.primary_key.front()].get(obj));
  std::vector<Value> pk;
  pk.reserve(t.primary_key.size());
  for (std::size_t i : t.primary_key) pk.push_back(t.columns[i].get(obj));
  return IdentityKey::of(&t, pk);
}

// Makes `s` the state of its identity key, replacing the state that had the key before.
void put_identity(SessionMaps& maps, InstanceState& s) {
  if (auto it = maps.identity.find(s.key); it != maps.identity.end()) {
    if (*it == &s) return;
    maps.identity.erase(it);
  }
  maps.identity.insert(&s);
}

// Objects can only form a cycle through a cycle of relationships between their tables
// (Author.books -> Book.author -> Author). True when some table of `states` reaches itself.
bool tables_may_cycle(const std::vector<std::shared_ptr<InstanceState>>& states) {
  // Inline capacity: every session's close() asks, and a session holds a handful of tables.
  using Tables = boost::container::small_vector<const TableInfo*, 8>;
  Tables tables;  // distinct
  const TableInfo* last = nullptr;
  for (const auto& s : states) {
    const TableInfo* t = &s->table();
    if (t == last) continue;
    last = t;
    if (std::find(tables.begin(), tables.end(), t) == tables.end()) tables.push_back(t);
  }
  Tables seen, stack;
  for (const TableInfo* start : tables) {
    seen.clear();
    stack.assign(1, start);
    while (!stack.empty()) {
      const TableInfo* t = stack.back();
      stack.pop_back();
      for (const RelationshipInfo& r : t->relationships) {
        const TableInfo* next = &r.target();
        if (next == start) return true;
        if (std::find(seen.begin(), seen.end(), next) == seen.end()) {
          seen.push_back(next);
          stack.push_back(next);
        }
      }
    }
  }
  return false;
}

// Room for `n` more entries in one of the lookup sets: grown geometrically and never shrunk.
// boost's reserve() rehashes to the size asked for even when that is smaller than the table, so
// asking for size + 1 on every add() would rehash every time.
template <class Set>
void make_room(Set& set, std::size_t n) {
  const std::size_t need = set.size() + n;
  if (static_cast<double>(need) > static_cast<double>(set.bucket_count()) * set.max_load_factor())
    set.reserve(std::max(need, set.size() * 2));
}

}  // namespace

// The hook each tracked object's relationship holders carry: an unloaded read asks the session
// what to do. It holds the session weakly, so an object outliving its session reports that
// instead of touching freed memory.
// One per (session, table, relationship): every holder of that relationship shares it. The
// holder's address less its offset in the object is the object, which the session looks up.
// When its session ends and no holder refers to it, the next session on the thread takes it
// over (take_spare_hooks): a get() in a fresh session otherwise allocated its hooks and their
// vector each time.
class SessionHook final : public RelationshipHook {
 public:
  SessionHook(std::weak_ptr<SessionCore> core, const TableInfo* table, std::size_t rel, std::ptrdiff_t offset)
      : core_(std::move(core)), table_(table), rel_(rel), offset_(offset) {}
  /// The relationship's index in its table.
  std::size_t rel() const noexcept { return rel_; }
  /// Points a hook no holder refers to any more at another session (SessionMaps::spare_hooks).
  void retarget(std::weak_ptr<SessionCore> core) noexcept { core_ = std::move(core); }

  void on_unloaded_access(void* holder) const override {
    auto core = core_.lock();
    InstanceState* state = core ? core->state_of(static_cast<char*>(holder) - offset_) : nullptr;
    if (!state || &state->table() != table_ || state->status == ObjectStatus::detached) {
      std::string what = table_->name + "." + table_->relationships[rel_].name;
      throw LazyLoadError("'" + what + "' is not loaded and its object is detached from its session (the session "
                          "was closed, the object expunged, or it is a copy of a session's object); eager-load it "
                          "with corm::selectinload(...) in the query, or load it before closing the session");
    }
    core->on_unloaded(*state, rel_);
  }

 private:
  std::weak_ptr<SessionCore> core_;
  const TableInfo* table_;  // names the attribute even after the session is gone
  std::size_t rel_;
  std::ptrdiff_t offset_;  // of the holder within the object
};

SessionCore::SessionCore(Dialect dialect, SessionOptions options, LogSink log)
    : dialect_(dialect), options_(std::move(options)), log_(std::move(log)), maps_(take_maps()) {}

void SessionCore::set_column(const ColumnInfo& c, void* obj, const Value& v) {
  // ColumnInfo decodes members from rows only, so the value goes through a one-cell row: the
  // same decoder a SELECT would use, with the same range checks.
  auto rs = std::make_shared<BufferedResultSet>(std::vector<std::string>{c.name});
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, Null>) rs->push_null();
        else if constexpr (std::is_same_v<X, bool>) rs->push_int(x ? 1 : 0);
        else if constexpr (std::is_same_v<X, std::int64_t>) rs->push_int(x);
        else if constexpr (std::is_same_v<X, double>) rs->push_real(x);
        else if constexpr (std::is_same_v<X, std::string>) rs->push_text(x);
        else if constexpr (std::is_same_v<X, Decimal>) rs->push_text(x.str());
        else if constexpr (std::is_same_v<X, Uuid>) rs->push_text(x.str());
        else if constexpr (std::is_same_v<X, Json>) rs->push_text(x.text);
        else throw UsageError("corm: the session cannot copy a value of type '" + std::string(Value(x).type_name()) +
                              "' into column '" + c.name + "'; use integer, text or UUID keys for relationships");
      },
      v.storage());
  c.set_from_row(obj, Row(rs, 0), 0);
}

Value SessionCore::cell_value(const Row& row, std::size_t col) {
  Cell c = row.cell(col);
  // A value PostgreSQL sent in binary keys like the text it would have sent (a UUID or numeric
  // key compares as its text, an integer as an integer), so a statement's text and binary runs
  // find the same identity.
  if (corm::detail::is_pg_binary(c) && c.kind != Cell::Kind::integer) return Value(corm::detail::pg_binary_text(c));
  switch (c.kind) {
    case Cell::Kind::integer: return Value(c.i);
    case Cell::Kind::real: return Value(c.d);
    case Cell::Kind::text: {
      // PostgreSQL sends integers as text cells: read them back as integers so keys compare.
      if (c.pg_type == pg_oid::int8 || c.pg_type == pg_oid::int4 || c.pg_type == pg_oid::int2)
        return Value(row.get<std::int64_t>(col));
      return Value(std::string(c.s));
    }
    default: return Value();
  }
}

std::shared_ptr<InstanceState> SessionCore::track(const EntityOps& ops, std::shared_ptr<void> obj, ObjectStatus st) {
  auto s = std::allocate_shared<InstanceState>(std::pmr::polymorphic_allocator<InstanceState>(&pool_), &pool_);
  s->ops = &ops;
  s->obj = std::move(obj);
  s->status = st;
  s->seq = next_seq();
  order_.push_back(s);
  install_hooks(s);
  return s;
}

void SessionCore::install_hooks(const std::shared_ptr<InstanceState>& s) {
  const TableInfo* table = s->ops->info;
  const auto& rels = table->relationships;
  if (rels.empty()) return;
  // A table's hooks sit side by side in relationship order: one vector for all of them.
  auto it = std::find_if(hooks_.begin(), hooks_.end(), [&](const auto& h) { return h.first == table; });
  if (it == hooks_.end()) {
    const auto first = hooks_.size();
    if (!take_spare_hooks(*table)) {
      // A member's offset is the same in every object of the type: measure it on this one.
      hooks_.reserve(first + rels.size());
      for (std::size_t i = 0; i < rels.size(); ++i)
        hooks_.emplace_back(table, std::make_shared<SessionHook>(weak_from_this(), table, i,
                                                                 static_cast<char*>(rels[i].holder(s->ptr())) -
                                                                     static_cast<char*>(s->ptr())));
    }
    it = hooks_.begin() + static_cast<std::ptrdiff_t>(first);
  }
  for (std::size_t i = 0; i < rels.size(); ++i, ++it) s->ops->relations[i].set_hook(rels[i].holder(s->ptr()), it->second);
}

bool SessionCore::take_spare_hooks(const TableInfo& table) {
  auto& spare = maps_->spare_hooks;
  const std::size_t n = table.relationships.size();
  auto at = std::find_if(spare.begin(), spare.end(), [&](const auto& h) { return h.first == &table; });
  if (spare.end() - at < static_cast<std::ptrdiff_t>(n)) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (at[i].first != &table || at[i].second->rel() != i) return false;
  for (std::size_t i = 0; i < n; ++i) at[i].second->retarget(weak_from_this());
  if (hooks_.empty() && static_cast<std::size_t>(spare.size()) == n) {
    hooks_.swap(spare);  // the whole vector, capacity included
  } else {
    hooks_.insert(hooks_.end(), std::make_move_iterator(at), std::make_move_iterator(at + static_cast<std::ptrdiff_t>(n)));
    spare.erase(at, at + static_cast<std::ptrdiff_t>(n));
  }
  return true;
}

void SessionCore::stash_hooks() {
  auto& spare = maps_->spare_hooks;
  if (spare.empty() && hooks_.size() <= SessionMaps::spare_hooks_limit &&
      std::all_of(hooks_.begin(), hooks_.end(), [](const auto& h) { return h.second.use_count() == 1; })) {
    for (auto& h : hooks_) h.second->retarget({});
    spare.swap(hooks_);
    return;
  }
  for (auto& h : hooks_)
    if (h.second.use_count() == 1 && spare.size() < SessionMaps::spare_hooks_limit) {
      h.second->retarget({});
      spare.push_back(std::move(h));
    }
}

InstanceState& SessionCore::add(const EntityOps& ops, std::shared_ptr<void> obj) {
  if (options_.read_only)
    throw UsageError("add(): this session is read-only; open a read-write session to change data");
  if (!obj) throw UsageError("add(): null object");
  if (InstanceState* s = state_of(obj.get())) {
    if (s->status == ObjectStatus::deleted) s->status = ObjectStatus::persistent;
    return *s;
  }
  auto s = track(ops, std::move(obj), ObjectStatus::pending);
  // A new object has no related rows yet: its unloaded holders read as empty, never as a query.
  const auto& rels = s->table().relationships;
  for (std::size_t i = 0; i < rels.size(); ++i) {
    void* h = rels[i].holder(s->ptr());
    if (!ops.relations[i].is_loaded(h)) ops.relations[i].set(h, {});
  }
  // save-update cascade through what is loaded now (flush repeats it for later additions).
  for (std::size_t i = 0; i < rels.size(); ++i) {
    if (!has_cascade(rels[i].cascade, Cascade::save_update)) continue;
    for (auto& child : ops.relations[i].peek(rels[i].holder(s->ptr())))
      if (!state_of(child.get())) add(ops.relations[i].target(), child);
  }
  return *s;
}

void SessionCore::index_tracked() const {
  if (indexed_ == order_.size()) return;
  auto& states = maps_->states;
  make_room(states, order_.size() - indexed_);
  for (; indexed_ < order_.size(); ++indexed_) {
    InstanceState* s = order_[indexed_].get();
    if (s->status != ObjectStatus::detached) states.insert(s);  // forget()ten before indexed
  }
}

InstanceState* SessionCore::state_of(const void* obj) const {
  index_tracked();
  auto it = maps_->states.find(ObjectAddress{obj});
  return it == maps_->states.end() ? nullptr : *it;
}

std::shared_ptr<InstanceState> SessionCore::shared_state_of(const void* obj) const {
  index_tracked();
  auto it = maps_->states.find(ObjectAddress{obj});
  return it == maps_->states.end() ? nullptr : (*it)->shared_from_this();
}

std::shared_ptr<void> SessionCore::lookup(const EntityOps& ops, std::span<const Value> pk) const {
  auto it = maps_->identity.find(IdentityKey::of(ops.info, pk));
  if (it == maps_->identity.end()) return nullptr;
  const InstanceState& s = **it;
  if (s.expired || s.status != ObjectStatus::persistent) return nullptr;
  return s.obj;
}

void SessionCore::check_key(const EntityOps& ops, std::span<const Value> pk) {
  const TableInfo& t = *ops.info;
  if (pk.size() == t.primary_key.size()) return;
  std::string cols;
  for (std::size_t i : t.primary_key) cols += (cols.empty() ? "" : ", ") + t.columns[i].name;
  throw UsageError("get(): '" + t.name + "' has a primary key of " + std::to_string(t.primary_key.size()) +
                   " column(s) (" + cols + ") but " + std::to_string(pk.size()) +
                   " value(s) were given; pass one value per key column, in that order");
}

sql::detail::SelectCore SessionCore::key_select(const EntityOps& ops, std::span<const Value> pk) {
  check_key(ops, pk);
  const TableInfo& t = *ops.info;
  sql::detail::SelectCore core;
  sql::detail::add_entity_columns(core, t);
  for (std::size_t k = 0; k < pk.size(); ++k)
    core.where = sql::detail::and_also(
        core.where, sql::detail::make_binary(sql::detail::Op::eq, sql::detail::make_column(&t.columns[t.primary_key[k]]),
                                             sql::detail::make_bind(pk[k])));
  return core;
}

namespace {

// get() on a miss sends the same SELECT … WHERE pk = $1 for every key of a model; building and
// compiling it each time (expression nodes, the compile cache's shape walk) was a fifth of the
// client's work per get (bench W1). Per thread, so no lock: a thread compiles each model once.
std::optional<Compiled> cached_key_statement(const EntityOps& ops, std::span<const Value> pk, Dialect d) {
  // A default subqueryload embeds the statement that loaded its parents, which reused text
  // does not carry: such models take the general path.
  for (const RelationshipInfo& r : ops.info->relationships)
    if (r.default_loader == LoaderStrategy::subquery) return std::nullopt;
  thread_local boost::unordered_flat_map<std::pair<const TableInfo*, int>, Compiled> cache;
  const std::pair<const TableInfo*, int> slot{ops.info, static_cast<int>(d)};
  if (auto it = cache.find(slot); it != cache.end()) {
    Compiled c = it->second;
    c.params.assign(pk.begin(), pk.end());
    return c;
  }
  Compiled c = sql::detail::compile(SessionCore::key_select(ops, pk), d);
  // Reusable only when the key is exactly the parameters, in order.
  if (std::equal(c.params.begin(), c.params.end(), pk.begin(), pk.end())) cache.emplace(slot, c);
  return c;
}

}  // namespace

LoadPlan SessionCore::key_plan(const EntityOps& ops, std::span<const Value> pk) {
  check_key(ops, pk);
  if (auto stmt = cached_key_statement(ops, pk, dialect_)) return LoadPlan(*this, ops, std::move(*stmt));
  return query_plan(ops, key_select(ops, pk), {}, false);
}

bool SessionCore::has_changes() const {
  for (const auto& s : order_) {
    if (s->status == ObjectStatus::pending || s->status == ObjectStatus::deleted) return true;
    if (s->status == ObjectStatus::persistent && !s->expired && s->differs_from_snapshot()) return true;
  }
  return false;
}

void SessionCore::register_key(InstanceState& s) {
  // Out of the identity set before its key changes: the set hashes through the state.
  if (s.has_key) {
    auto it = maps_->identity.find(s.key);
    if (it != maps_->identity.end() && *it == &s) maps_->identity.erase(it);
  }
  const TableInfo& t = s.table();
  s.key = key_of(t, s.ptr());
  s.has_key = true;
  put_identity(*maps_, s);
}

void SessionCore::forget(InstanceState& s) {
  if (s.has_key) {
    auto it = maps_->identity.find(s.key);
    if (it != maps_->identity.end() && *it == &s) maps_->identity.erase(it);
  }
  s.status = ObjectStatus::detached;
  maps_->states.erase(ObjectAddress{s.ptr()});
}

void SessionCore::compact() {
  // As erase_if, counting the states kept from the indexed prefix.
  std::size_t kept = 0, indexed = 0;
  for (std::size_t i = 0; i < order_.size(); ++i) {
    if (order_[i]->status == ObjectStatus::detached) continue;
    if (i < indexed_) ++indexed;
    if (kept != i) order_[kept] = std::move(order_[i]);
    ++kept;
  }
  order_.resize(kept);
  indexed_ = indexed;
}

void SessionCore::expire(const void* obj) {
  if (InstanceState* s = state_of(obj); s && s->status == ObjectStatus::persistent) s->expired = true;
}

void SessionCore::expire_all() {
  for (auto& s : order_)
    if (s->status == ObjectStatus::persistent) s->expired = true;
}

void SessionCore::expunge(const void* obj) {
  if (InstanceState* s = state_of(obj)) forget(*s);
  compact();
}

std::shared_ptr<InstanceState> SessionCore::absorb(const EntityOps& ops, const Row& row, std::size_t first, bool refresh) {
  const TableInfo& t = *ops.info;
  std::shared_ptr<void> tmp = ops.create();
  corm::detail::hydrate(t, tmp.get(), row, first);
  IdentityKey key = key_of(t, tmp.get());
  if (auto it = maps_->identity.find(key); it != maps_->identity.end()) {
    InstanceState& s = **it;
    if ((refresh || s.expired) && s.status != ObjectStatus::deleted) {
      corm::detail::hydrate(t, s.ptr(), row, first);
      s.snapshot_from(row, first);
      s.expired = false;
    }
    return s.shared_from_this();
  }
  // A row says nothing about related rows: until a loader fills them, relationships are
  // unloaded (a new holder starts loaded and empty, as a new object's should).
  corm::detail::unload_relationships(t, tmp.get());
  auto s = track(ops, std::move(tmp), ObjectStatus::persistent);
  s->snapshot_from(row, first);
  s->key = std::move(key);  // as register_key(), without making the key a second time
  s->has_key = true;
  maps_->identity.insert(s.get());
  return s;
}

void SessionCore::reserve_more(std::size_t n) {
  // Geometric, as push_back grows: reserving exactly size + n for each of a thousand small
  // lazy loads would rehash (or copy) every time.
  make_room(maps_->identity, n);
  if (order_.capacity() == 0) order_.swap(maps_->spare_order);  // a finished session's, if any
  const std::size_t need = order_.size() + n;
  if (need > order_.capacity()) order_.reserve(std::max(need, order_.capacity() * 2));
}

void SessionCore::on_unloaded(InstanceState& s, std::size_t rel) {
  const RelationOps& rops = s.ops->relations[rel];
  void* holder = s.table().relationships[rel].holder(s.ptr());
  if (s.status == ObjectStatus::pending) {
    rops.set(holder, {});
    return;
  }
  switch (s.strategy(rel)) {
    case LoaderStrategy::raise:
      throw RaiseLoadError("'" + attribute_name(s, rel) + "' is not loaded and raiseload() forbids loading it on "
                           "access; eager-load it in the query (corm::selectinload or corm::joinedload) or drop "
                           "the raiseload option");
    case LoaderStrategy::noload:
      rops.set(holder, {});
      return;
    default:
      break;
  }
  if (!lazy_runner_)
    throw LazyLoadError("'" + attribute_name(s, rel) + "' is not loaded and AsyncSession does not load on attribute "
                        "access (that would be hidden blocking I/O); add corm::selectinload(...) for it to the "
                        "query, or `co_await session.load(obj, &Model::member)` first");
  LoadPlan plan(*this, {shared_state_of(s.ptr())}, rel, true);
  lazy_runner_(plan);
}

LoadPlan SessionCore::relationship_plan(const void* obj, std::size_t rel, bool lazy) {
  auto s = shared_state_of(obj);
  if (!s) throw UsageError("load(): the object is not in this session; add it or query it through the session first");
  if (rel >= s->table().relationships.size()) throw UsageError("load(): no such relationship");
  return LoadPlan(*this, {s}, rel, lazy);
}

LoadPlan SessionCore::refresh_plan(const void* obj) {
  auto s = shared_state_of(obj);
  if (!s || s->status != ObjectStatus::persistent)
    throw UsageError("refresh(): the object is not persistent in this session; query it through the session first");
  sql::detail::SelectCore core;
  sql::detail::add_entity_columns(core, s->table());
  core.where = sql::detail::primary_key_predicate(s->table(), s->ptr());
  return LoadPlan(*this, *s->ops, std::move(core), {}, true);
}

void SessionCore::collect_cascade(InstanceState& s, std::vector<std::shared_ptr<InstanceState>>& out,
                                  std::unordered_set<const void*>& seen,
                                  std::vector<std::pair<std::shared_ptr<InstanceState>, std::size_t>>& unloaded) {
  if (!seen.insert(s.ptr()).second) return;
  out.push_back(shared_state_of(s.ptr()));
  const auto& rels = s.table().relationships;
  for (std::size_t i = 0; i < rels.size(); ++i) {
    if (!has_cascade(rels[i].cascade, Cascade::delete_) || rels[i].kind == RelationshipKind::many_to_one) continue;
    void* h = rels[i].holder(s.ptr());
    if (!s.ops->relations[i].is_loaded(h)) {
      if (s.status == ObjectStatus::persistent) unloaded.emplace_back(shared_state_of(s.ptr()), i);
      continue;
    }
    for (auto& child : s.ops->relations[i].peek(h))
      if (InstanceState* cs = state_of(child.get())) collect_cascade(*cs, out, seen, unloaded);
  }
}

LoadPlan* SessionCore::cascade_load_plan(const EntityOps&, const std::shared_ptr<void>& obj) {
  InstanceState* s = state_of(obj.get());
  if (!s) return nullptr;
  std::vector<std::shared_ptr<InstanceState>> all;
  std::unordered_set<const void*> seen;
  std::vector<std::pair<std::shared_ptr<InstanceState>, std::size_t>> unloaded;
  collect_cascade(*s, all, seen, unloaded);
  if (unloaded.empty()) return nullptr;
  cascade_plan_ = std::make_unique<LoadPlan>(*this, std::vector{unloaded.front().first}, unloaded.front().second, false);
  return cascade_plan_.get();
}

void SessionCore::mark_deleted(const EntityOps&, const std::shared_ptr<void>& obj) {
  if (options_.read_only)
    throw UsageError("delete(): this session is read-only; open a read-write session to change data");
  InstanceState* s = state_of(obj.get());
  if (!s) throw UsageError("delete(): the object is not in this session; query it through the session first");
  std::vector<std::shared_ptr<InstanceState>> all;
  std::unordered_set<const void*> seen;
  std::vector<std::pair<std::shared_ptr<InstanceState>, std::size_t>> unloaded;
  collect_cascade(*s, all, seen, unloaded);
  for (auto& st : all) {
    if (st->status == ObjectStatus::pending) forget(*st);
    else if (st->status == ObjectStatus::persistent) st->status = ObjectStatus::deleted;
  }
  compact();
}

void SessionCore::after_commit() {
  compact();
  if (options_.expire_on_commit)
    for (auto& s : order_)
      if (s->status == ObjectStatus::persistent) s->expired = true;
  tx_mark_ = seq_;
  flushed_uncommitted_ = false;
}

void SessionCore::report_close_discarding(bool may_throw) {
  if (!flushed_uncommitted_) return;
  flushed_uncommitted_ = false;
  const std::string msg =
      "a session was closed with flushed changes that were never committed; they were rolled back. "
      "Call commit() before close() to keep them, or rollback() to discard them without this warning";
  if (may_throw && options_.strict_close) throw UsageError(msg);
  if (log_) log_(LogLevel::warning, msg);
  else stderr_sink(LogLevel::warning, msg);
}

void SessionCore::after_rollback() {
  after_savepoint_rollback(tx_mark_);
  for (auto& s : order_)
    if (s->status == ObjectStatus::persistent) s->expired = true;
  tx_mark_ = seq_;
  flushed_uncommitted_ = false;
}

void SessionCore::after_savepoint_rollback(std::uint64_t mark) {
  for (auto& s : std::vector(order_)) {
    if (s->status == ObjectStatus::detached) continue;
    if ((s->status == ObjectStatus::pending && s->seq > mark) || s->inserted_at > mark) {
      forget(*s);
      continue;
    }
    if (s->written_at > mark) {
      if (s->status == ObjectStatus::deleted) s->status = ObjectStatus::persistent;
      s->expired = true;
      if (s->has_key) put_identity(*maps_, *s);
    }
  }
  compact();
}

void SessionCore::collect_cycles(const std::vector<std::shared_ptr<InstanceState>>& states) {
  // CPython's cycle collection in miniature: an object's references from outside the session
  // are its use count minus the session's own (its state, other objects' holders and
  // snapshots). Objects with outside references, and everything their holders reach, live; the
  // holders of the rest are reset, which breaks their cycles.
  // Only objects with relationships can hold references, so only they can be in a cycle (an
  // object without any, like a row of a plain table, is never reset and never keeps another
  // alive).
  struct Node {
    long outside;  // references from outside the session
    InstanceState* state;
    bool live = false;
  };
  auto for_each_ref = [](InstanceState& s, auto&& f) {
    using F = std::remove_reference_t<decltype(f)>;
    const auto& rels = s.table().relationships;
    for (std::size_t i = 0; i < rels.size(); ++i) {
      void* h = rels[i].holder(s.ptr());
      if (s.ops->relations[i].is_loaded(h))
        s.ops->relations[i].for_each(h, &f, [](void* ctx, const void* x) { (*static_cast<F*>(ctx))(x); });
      for (const auto& x : s.collection(i)) f(x.get());
    }
  };
  // Nothing can be in a cycle when the tables' relationships form none (W4's Author.books
  // without Book.author: 9 % of its instructions went here), or when no holder refers to
  // anything (a get by key, a plain load): then no map is built at all.
  bool any_ref = false;
  for (const auto& s : states) {
    if (any_ref) break;
    if (s->obj && !s->table().relationships.empty()) for_each_ref(*s, [&](const void*) { any_ref = true; });
  }
  if (!any_ref || !tables_may_cycle(states)) {
    for (const auto& s : states)
      s->clear_collections();
    return;
  }
  boost::unordered_flat_map<const void*, Node> nodes;  // one map, sized once: close() runs per session
  nodes.reserve(states.size());
  for (const auto& s : states) {
    if (!s->obj || s->table().relationships.empty()) continue;
    nodes.emplace(s->ptr(), Node{s->obj.use_count() - 1, s.get()});
  }
  for (const auto& s : states)
    if (s->obj)
      for_each_ref(*s, [&](const void* x) {
        if (auto it = nodes.find(x); it != nodes.end()) --it->second.outside;
      });
  std::vector<InstanceState*> work;
  for (auto& [p, n] : nodes)
    if (n.outside > 0 && !n.live) {
      n.live = true;
      work.push_back(n.state);
    }
  while (!work.empty()) {
    InstanceState* s = work.back();
    work.pop_back();
    for_each_ref(*s, [&](const void* x) {
      if (auto it = nodes.find(x); it != nodes.end() && !it->second.live) {
        it->second.live = true;
        work.push_back(it->second.state);
      }
    });
  }
  for (const auto& s : states) {
    if (!s->obj || s->table().relationships.empty()) continue;
    if (auto it = nodes.find(s->ptr()); it != nodes.end() && it->second.live) continue;
    const auto& rels = s->table().relationships;
    for (std::size_t i = 0; i < rels.size(); ++i) s->ops->relations[i].reset(rels[i].holder(s->ptr()));
  }
  for (const auto& s : states)
    s->clear_collections();
}

void SessionCore::close() {
  // Linear in the objects held: a session that loaded 100,000 rows closes in milliseconds.
  // track() is the only place states are made and it records each in order_, so order_ holds
  // them all (and possibly detached ones, which are harmless here).
  std::vector<std::shared_ptr<InstanceState>> all = std::move(order_);
  for (auto& s : all) s->status = ObjectStatus::detached;
  cascade_plan_.reset();
  collect_cycles(all);
  maps_->states.clear();
  maps_->identity.clear();
  order_.clear();
  indexed_ = 0;
  // Objects without relationships hold no references, so they can never close a cycle later;
  // nor can any object whose tables' relationships form no cycle.
  if (tables_may_cycle(all))
    for (auto& s : all)
      if (s->obj && s->obj.use_count() > 1 && !s->retained && !s->table().relationships.empty()) {
        s->retained = true;
        retained_.push_back(s);
      }
  all.clear();
  // A second close() has no buffer to give and must not drop the first one's.
  if (all.capacity() != 0 && all.capacity() <= SessionMaps::spare_order_limit) maps_->spare_order = std::move(all);
}

SessionCore::~SessionCore() {
  try {
    if (!order_.empty() || !maps_->states.empty()) close();
    collect_cycles(retained_);
    stash_hooks();
  } catch (...) {
  }
  give_maps(std::move(maps_));
}

void SessionCore::record(const Step& step, std::chrono::nanoseconds elapsed) {
  const std::uint64_t lazy = stats_.record(step.statements.front().sql, step.statements.size(), elapsed, step.lazy);
  if (!step.lazy || lazy < options_.n_plus_one_threshold || !warned_.insert(step.sql()).second) return;
  std::string msg = "N+1 query pattern: lazy loads of '" + step.relationship + "' sent the same statement " +
                    std::to_string(lazy) + " times in one session; eager-load it with "
                    "corm::selectinload(...) (or joinedload) in the query that fetched the parents";
  if (options_.strict_n_plus_one) throw NPlusOneError(msg);
  if (log_) log_(LogLevel::warning, msg);
  else stderr_sink(LogLevel::warning, msg);
}

}  // namespace corm::orm
