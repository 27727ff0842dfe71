#pragma once
// The driver side of a result: rows and columns a driver produced, read cell by cell without
// copying. Drivers implement ResultSet; users see Result and Row (result.hpp).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corm/core/cell.hpp"
#include "corm/core/value.hpp"

namespace corm {

/// A complete, immutable result produced by a driver. Implementations must be safe to read from
/// several threads at once (they are never written after construction).
class ResultSet {
 public:
  virtual ~ResultSet() = default;
  /// Number of rows.
  virtual std::size_t size() const noexcept = 0;
  /// Number of columns (0 for statements that return no rows).
  virtual std::size_t column_count() const noexcept = 0;
  /// Name of column `col` as the database reported it.
  virtual std::string_view column_name(std::size_t col) const = 0;
  /// A view of one cell, valid as long as this ResultSet lives.
  virtual Cell cell(std::size_t row, std::size_t col) const = 0;
  /// Views of the `n` cells of row `row` from column `first` on, into `out[0..n)`: what `n` calls
  /// of cell() return, for one virtual call per row where an object is built from many columns.
  /// The caller keeps `row < size()` and `first + n <= column_count()`; `out` may be raw storage
  /// (each cell is assigned whole, never read).
  virtual void cells(std::size_t row, std::size_t first, std::size_t n, Cell* out) const {
    for (std::size_t i = 0; i < n; ++i) out[i] = cell(row, first + i);
  }
  /// Rows inserted, updated or deleted by the statement; -1 when it does not apply.
  virtual std::int64_t affected_rows() const noexcept = 0;
  /// True when keeping this result alive after its rows were read costs nothing but its memory.
  /// The ORM then keeps a loaded object's row as its dirty-check snapshot instead of copying the
  /// values out (InstanceState::snapshot_from).
  virtual bool retainable() const noexcept { return true; }
};

/// A ResultSet that owns its cells in one arena: used by the SQLite driver and by test drivers.
class BufferedResultSet final : public ResultSet {
 public:
  BufferedResultSet() = default;
  /// A result with these column names and no rows yet.
  explicit BufferedResultSet(std::vector<std::string> columns) : columns_(std::move(columns)) {}

  /// Appends one cell of the current row; rows are `column_count()` cells long.
  void push_null();
  /// Appends an integer cell to the current row.
  void push_int(std::int64_t v);
  /// Appends a floating-point cell to the current row.
  void push_real(double v);
  /// Appends a text cell to the current row, copying `v`; throws DataError past 4 GiB.
  void push_text(std::string_view v);
  /// Appends a blob cell to the current row, copying `bytes`; throws DataError past 4 GiB.
  void push_blob(std::string_view bytes);
  /// Sets the affected-row count reported by affected_rows().
  void set_affected_rows(std::int64_t n) noexcept { affected_ = n; }
  /// Sets the column names (before pushing cells).
  void set_columns(std::vector<std::string> columns) { columns_ = std::move(columns); }

  std::size_t size() const noexcept override {
    return columns_.empty() ? 0 : cells_.size() / columns_.size();
  }
  std::size_t column_count() const noexcept override { return columns_.size(); }
  std::string_view column_name(std::size_t col) const override { return columns_.at(col); }
  Cell cell(std::size_t row, std::size_t col) const override;
  void cells(std::size_t row, std::size_t first, std::size_t n, Cell* out) const override;
  std::int64_t affected_rows() const noexcept override { return affected_; }
  /// False: held until its session closed, a load's buffered results went back to glibc all at
  /// once, which returned them to the kernel (one madvise per load) to fault them in again for
  /// the next (bench W4 on SQLite: 78,900 page faults per run instead of 4,900, half the loads/s).
  bool retainable() const noexcept override { return false; }

 private:
  struct Slot {
    Cell::Kind kind;
    std::int64_t i;        // integer value, or arena offset for text/blob
    double d;
    std::uint32_t len;
  };
  std::vector<std::string> columns_;
  std::vector<Slot> cells_;
  std::string arena_;
  std::int64_t affected_ = -1;
};

}  // namespace corm
