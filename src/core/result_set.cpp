#include "corm/core/result_set.hpp"

#include <limits>
#include <stdexcept>

#include "corm/core/error.hpp"

namespace corm {

namespace {
// Slot::len is 32 bits so a cell costs 24 bytes; SQLite's own limit (SQLITE_MAX_LENGTH, 1 GB by
// default) keeps real cells well below this.
std::uint32_t checked_len(std::size_t n) {
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw DataError("a single result cell of " + std::to_string(n) + " bytes exceeds corm's 4 GiB cell limit");
  return static_cast<std::uint32_t>(n);
}
}  // namespace

void BufferedResultSet::push_null() { cells_.push_back({Cell::Kind::null, 0, 0, 0}); }

void BufferedResultSet::push_int(std::int64_t v) { cells_.push_back({Cell::Kind::integer, v, 0, 0}); }

void BufferedResultSet::push_real(double v) { cells_.push_back({Cell::Kind::real, 0, v, 0}); }

void BufferedResultSet::push_text(std::string_view v) {
  const auto len = checked_len(v.size());
  cells_.push_back({Cell::Kind::text, static_cast<std::int64_t>(arena_.size()), 0, len});
  arena_.append(v);
}

void BufferedResultSet::push_blob(std::string_view bytes) {
  const auto len = checked_len(bytes.size());
  cells_.push_back({Cell::Kind::blob, static_cast<std::int64_t>(arena_.size()), 0, len});
  arena_.append(bytes);
}

namespace {

Cell slot_cell(const Cell::Kind kind, std::int64_t i, double d, std::uint32_t len, const std::string& arena) noexcept {
  Cell c;
  c.kind = kind;
  switch (kind) {
    case Cell::Kind::integer: c.i = i; break;
    case Cell::Kind::real: c.d = d; break;
    case Cell::Kind::text:
    case Cell::Kind::blob:
      c.s = std::string_view(arena.data() + i, len);
      break;
    case Cell::Kind::null: break;
  }
  return c;
}

}  // namespace

Cell BufferedResultSet::cell(std::size_t row, std::size_t col) const {
  if (col >= columns_.size() || row >= size())
    throw std::out_of_range("cell (" + std::to_string(row) + ", " + std::to_string(col) +
                            ") is outside a result of " + std::to_string(size()) + " rows and " +
                            std::to_string(columns_.size()) + " columns");
  const Slot& s = cells_[row * columns_.size() + col];
  return slot_cell(s.kind, s.i, s.d, s.len, arena_);
}

void BufferedResultSet::cells(std::size_t row, std::size_t first, std::size_t n, Cell* out) const {
  const Slot* s = cells_.data() + row * columns_.size() + first;
  for (std::size_t k = 0; k < n; ++k) out[k] = slot_cell(s[k].kind, s[k].i, s[k].d, s[k].len, arena_);
}

}  // namespace corm
