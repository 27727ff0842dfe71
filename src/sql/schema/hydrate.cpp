#include "corm/sql/schema/hydrate.hpp"

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace corm::detail {

void hydrate(const TableInfo& info, void* obj, const Row& row, std::size_t first) {
  const ResultSet& rs = row.result_set();
  const std::size_t n = info.columns.size();
  if (first + n > rs.column_count()) throw_column_out_of_range(rs, first + n - 1);
  // Sixteen cells on the stack cover nearly every model in one batch; wider ones take several.
  // Raw storage rather than std::array<Cell, 16>: constructing sixteen cells for every row was
  // 640 bytes of stores, and cells() assigns each one it fills (an implicit-lifetime type).
  static_assert(std::is_trivially_copyable_v<Cell> && std::is_trivially_destructible_v<Cell>);
  constexpr std::size_t capacity = 16;
  alignas(Cell) std::byte storage[capacity * sizeof(Cell)];
  Cell* cells = reinterpret_cast<Cell*>(storage);
  for (std::size_t done = 0; done < n; done += capacity) {
    const std::size_t batch = std::min(capacity, n - done);
    rs.cells(row.index(), first + done, batch, cells);
    for (std::size_t k = 0; k < batch; ++k) {
      const ColumnInfo& c = info.columns[done + k];
      try {
        c.set_from_cell(obj, cells[k]);
      } catch (const DataError&) {
        // Decoding the same cell again through the Row throws the message that names the
        // result column, the mapped column and both types.
        c.set_from_row(obj, row, first + done + k);
        throw;
      }
    }
  }
}

}  // namespace corm::detail
