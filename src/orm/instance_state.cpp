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
  snapshot.clear();
  snapshot.reserve(table().columns.size());
  for (const ColumnInfo& c : table().columns) snapshot.emplace_back(ColumnValue{c, ptr()});
}

bool InstanceState::differs_from_snapshot() const {
  const auto& cols = table().columns;
  if (snapshot.size() != cols.size()) return true;
  for (std::size_t i = 0; i < cols.size(); ++i)
    if (!(cols[i].get(ptr()) == snapshot[i])) return true;
  return false;
}

}  // namespace corm::orm
