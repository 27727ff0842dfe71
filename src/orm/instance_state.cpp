#include "corm/orm/detail/instance_state.hpp"

#include "corm/sql/schema/table_info.hpp"

namespace corm::orm {

namespace {

// A column's value, produced where it is wanted: emplace_back() constructs the Value in its slot
// from the getter's result (guaranteed elision) instead of moving from a temporary and then
// destroying it — two visits of the variant per column, for every object a query loads.
struct ColumnValue {
  const ColumnInfo& column;
  const void* obj;
  operator Value() const { return column.get(obj); }
};

}  // namespace

struct InstanceState::Extra {
  explicit Extra(std::pmr::memory_resource* pool) : collections(pool), snapshot(pool) {}
  std::vector<LoaderStrategy> strategies;  // empty while the mapping's defaults apply
  std::pmr::vector<Collection> collections;  // empty until one is recorded
  std::pmr::vector<Value> snapshot;
};

InstanceState::~InstanceState() {
  if (extra_) std::pmr::polymorphic_allocator<Extra>(pool_).delete_object(extra_);
}

InstanceState::Extra& InstanceState::extra() const {
  if (!extra_) extra_ = std::pmr::polymorphic_allocator<Extra>(pool_).new_object<Extra>(pool_);
  return *extra_;
}

LoaderStrategy InstanceState::strategy(std::size_t rel) const noexcept {
  if (extra_ && rel < extra_->strategies.size()) return extra_->strategies[rel];
  return ops->info->relationships[rel].default_loader;
}

void InstanceState::set_strategy(std::size_t rel, LoaderStrategy s) {
  if (strategy(rel) == s) return;  // most loads keep the mapping's defaults: no block for them
  auto& strategies = extra().strategies;
  if (strategies.empty())
    for (const auto& r : ops->info->relationships) strategies.push_back(r.default_loader);
  strategies[rel] = s;
}

const InstanceState::Collection& InstanceState::collection(std::size_t rel) const noexcept {
  static const Collection none;
  return extra_ && rel < extra_->collections.size() ? extra_->collections[rel] : none;
}

void InstanceState::record_collection(std::size_t rel, std::span<const std::shared_ptr<void>> items) {
  auto& collections = extra().collections;
  if (collections.size() <= rel) collections.resize(ops->info->relationships.size());
  collections[rel].assign(items.begin(), items.end());
}

void InstanceState::clear_collections() noexcept {
  if (extra_)
    for (auto& c : extra_->collections) c.clear();
}

std::vector<Value> InstanceState::current_values() const {
  std::vector<Value> out;
  out.reserve(table().columns.size());
  for (const ColumnInfo& c : table().columns) out.emplace_back(ColumnValue{c, ptr()});
  return out;
}

void InstanceState::take_snapshot() {
  // Filled in place: the vector keeps its pool block from one snapshot to the next.
  snapshot_rows_.reset();
  auto& snapshot = extra().snapshot;
  snapshot.clear();
  snapshot.reserve(table().columns.size());
  for (const ColumnInfo& c : table().columns) snapshot.emplace_back(ColumnValue{c, ptr()});
}

void InstanceState::snapshot_from(const Row& row, std::size_t first) {
  if (!ops->snapshot_from_rows || !row.result_set().retainable()) return take_snapshot();
  if (extra_) extra_->snapshot.clear();
  snapshot_rows_ = row.shared_result_set();
  snapshot_row_ = row.index();
  snapshot_first_ = static_cast<std::uint32_t>(first);  // a cell index: far below 2^32 columns
}

const std::pmr::vector<Value>& InstanceState::snapshot() const {
  static const std::pmr::vector<Value> none;
  if (!snapshot_rows_) return extra_ ? extra_->snapshot : none;  // a pending object's is empty
  auto& snapshot = extra().snapshot;
  {
    const Row row(snapshot_rows_, snapshot_row_);
    snapshot.clear();
    snapshot.reserve(table().columns.size());
    for (const ColumnInfo& c : table().columns) snapshot.push_back(c.value_from_row(row, snapshot_first_ + c.index));
    snapshot_rows_.reset();
  }
  return snapshot;
}

std::pmr::vector<Value>& InstanceState::reset_snapshot() {
  snapshot_rows_.reset();
  auto& snapshot = extra().snapshot;
  snapshot.assign(table().columns.size(), Value());
  return snapshot;
}

bool InstanceState::differs_from_snapshot() const {
  const auto& cols = table().columns;
  const auto& snap = snapshot();
  if (snap.size() != cols.size()) return true;
  for (std::size_t i = 0; i < cols.size(); ++i)
    if (!(cols[i].get(ptr()) == snap[i])) return true;
  return false;
}

}  // namespace corm::orm
