#include "corm/orm/instance_state.hpp"

#include "corm/sql/schema/table_info.hpp"

namespace corm::orm {

std::vector<Value> InstanceState::current_values() const {
  std::vector<Value> out;
  out.reserve(table().columns.size());
  for (const ColumnInfo& c : table().columns) out.push_back(c.get(ptr()));
  return out;
}

void InstanceState::take_snapshot() {
  // Filled in place: the vector keeps its pool block from one snapshot to the next.
  snapshot.clear();
  snapshot.reserve(table().columns.size());
  for (const ColumnInfo& c : table().columns) snapshot.push_back(c.get(ptr()));
}

bool InstanceState::differs_from_snapshot() const {
  const auto& cols = table().columns;
  if (snapshot.size() != cols.size()) return true;
  for (std::size_t i = 0; i < cols.size(); ++i)
    if (!(cols[i].get(ptr()) == snapshot[i])) return true;
  return false;
}

}  // namespace corm::orm
