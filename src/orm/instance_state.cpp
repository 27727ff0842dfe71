#include "corm/orm/instance_state.hpp"

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

std::vector<Value> InstanceState::current_values() const {
  std::vector<Value> out;
  out.reserve(table().columns.size());
  for (const ColumnInfo& c : table().columns) out.emplace_back(ColumnValue{c, ptr()});
  return out;
}

void InstanceState::take_snapshot() {
  // Filled in place: the vector keeps its pool block from one snapshot to the next.
  snapshot_row_.reset();
  snapshot_.clear();
  snapshot_.reserve(table().columns.size());
  for (const ColumnInfo& c : table().columns) snapshot_.emplace_back(ColumnValue{c, ptr()});
}

void InstanceState::snapshot_from(const Row& row, std::size_t first) {
  if (!row.result_set().retainable()) return take_snapshot();
  for (const ColumnInfo& c : table().columns)
    if (c.value_from_row == nullptr) return take_snapshot();  // not a mapped model's column
  snapshot_.clear();
  snapshot_row_.emplace(row);
  snapshot_first_ = first;
}

const std::pmr::vector<Value>& InstanceState::snapshot() const {
  if (snapshot_row_) {
    snapshot_.clear();
    snapshot_.reserve(table().columns.size());
    for (const ColumnInfo& c : table().columns) snapshot_.push_back(c.value_from_row(*snapshot_row_, snapshot_first_ + c.index));
    snapshot_row_.reset();
  }
  return snapshot_;
}

std::pmr::vector<Value>& InstanceState::reset_snapshot() {
  snapshot_row_.reset();
  snapshot_.assign(table().columns.size(), Value());
  return snapshot_;
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
