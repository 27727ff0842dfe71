#include "corm/sql/schema/hydrate.hpp"

#include <algorithm>
#include <array>

namespace corm::detail {

void hydrate(const TableInfo& info, void* obj, const Row& row, std::size_t first) {
  const ResultSet& rs = row.result_set();
  const std::size_t n = info.columns.size();
  if (first + n > rs.column_count()) throw_column_out_of_range(rs, first + n - 1);
  // Sixteen cells on the stack cover nearly every model in one batch; wider ones take several.
  std::array<Cell, 16> cells;
  for (std::size_t done = 0; done < n; done += cells.size()) {
    const std::size_t batch = std::min(cells.size(), n - done);
    rs.cells(row.index(), first + done, batch, cells.data());
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
