#pragma once
// Result and Row: what `execute` returns. A Result is fully buffered (the driver read every row
// before returning), so it can be iterated several times and outlives the connection it came from.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "corm/core/codec.hpp"
#include "corm/core/error.hpp"
#include "corm/core/result_set.hpp"

namespace corm {

namespace detail {
[[noreturn]] void rethrow_decode_error(const ResultSet& rs, std::size_t col, std::string_view cpp_type);
std::size_t column_index(const ResultSet& rs, std::string_view name);
[[noreturn]] void throw_column_out_of_range(const ResultSet& rs, std::size_t col);
}  // namespace detail

/// One row of a Result. Cheap to copy; keeps its Result's data alive.
class Row {
 public:
  /// Row `index` of `rs` (rows come from a Result; drivers and the ORM build them directly).
  Row(std::shared_ptr<const ResultSet> rs, std::size_t index) : rs_(std::move(rs)), index_(index) {}

  /// Reads column `col` as T. Throws DataError naming the column and both types when the value
  /// does not fit T (NULL into a non-optional T included).
  template <Decodable T>
  T get(std::size_t col) const {
    if (col >= rs_->column_count()) detail::throw_column_out_of_range(*rs_, col);
    try {
      return Codec<T>::decode(rs_->cell(index_, col));
    } catch (const DataError&) {
      detail::rethrow_decode_error(*rs_, col, Codec<T>::name);
    }
  }
  /// Reads the column named `name` as T. Throws ProgrammingError when there is no such column.
  template <Decodable T>
  T get(std::string_view name) const {
    return get<T>(detail::column_index(*rs_, name));
  }
  /// Reads every column, in order, into a tuple: `auto [id, name] = row.as<int64_t, std::string>();`
  template <Decodable... Ts>
  std::tuple<Ts...> as() const {
    return as_impl<Ts...>(std::index_sequence_for<Ts...>{});
  }
  /// True when column `col` is NULL.
  bool is_null(std::size_t col) const { return rs_->cell(index_, col).is_null(); }
  /// The raw cell (for custom decoders).
  Cell cell(std::size_t col) const { return rs_->cell(index_, col); }
  /// Number of columns.
  std::size_t size() const noexcept { return rs_->column_count(); }
  /// The result this row belongs to.
  const ResultSet& result_set() const noexcept { return *rs_; }
  /// The result this row belongs to, shared: keeping it keeps the row readable.
  const std::shared_ptr<const ResultSet>& shared_result_set() const noexcept { return rs_; }
  /// Position of this row in its result.
  std::size_t index() const noexcept { return index_; }

 private:
  template <class... Ts, std::size_t... I>
  std::tuple<Ts...> as_impl(std::index_sequence<I...>) const {
    return std::tuple<Ts...>{get<Ts>(I)...};
  }
  std::shared_ptr<const ResultSet> rs_;
  std::size_t index_;
};

/// The outcome of one statement: rows (possibly none), column names and the affected-row count.
class Result {
 public:
  /// An empty result: no rows, no columns, rowcount() -1.
  Result() = default;
  /// The result holding the rows of `rs` (null: as the default).
  explicit Result(std::shared_ptr<const ResultSet> rs) : rs_(std::move(rs)) {}

  /// Walks the rows of a Result in order; dereferencing gives a Row by value. Valid while the
  /// Result it came from lives.
  class iterator {
   public:
    /// Row.
    using value_type = Row;
    /// Signed distance between two positions.
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    /// Position `i` in the result `*rs` (what Result::begin() and end() return).
    iterator(const std::shared_ptr<const ResultSet>* rs, std::size_t i) : rs_(rs), i_(i) {}
    /// The row at this position.
    Row operator*() const { return Row(*rs_, i_); }
    /// Moves to the next row.
    iterator& operator++() { ++i_; return *this; }
    /// Moves to the next row; returns the position before the move.
    iterator operator++(int) { auto t = *this; ++i_; return t; }
    /// True when both are at the same row position (iterators of one Result only).
    friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }

   private:
    const std::shared_ptr<const ResultSet>* rs_ = nullptr;
    std::size_t i_ = 0;
  };

  /// The first row's position: `for (const Row& row : result)`.
  iterator begin() const { return iterator(&rs_, 0); }
  /// The position past the last row.
  iterator end() const { return iterator(&rs_, size()); }

  /// Number of rows returned.
  std::size_t size() const noexcept { return rs_ ? rs_->size() : 0; }
  /// True when there are no rows.
  bool empty() const noexcept { return size() == 0; }
  /// Rows inserted/updated/deleted (-1 when the statement reports none), like DB-API rowcount.
  std::int64_t rowcount() const noexcept { return rs_ ? rs_->affected_rows() : -1; }
  /// Column names in order.
  std::vector<std::string> columns() const;
  /// Row `i` (throws std::out_of_range past the end).
  Row at(std::size_t i) const;

  /// Every row.
  std::vector<Row> all() const;
  /// The first row, or nullopt when there are none (further rows are ignored).
  std::optional<Row> first() const;
  /// Exactly one row: throws NoResultFound or MultipleResultsFound otherwise.
  Row one() const;
  /// One row or none: throws MultipleResultsFound for more.
  std::optional<Row> one_or_none() const;

  /// First column of the first row as T, or nullopt when there are no rows.
  template <Decodable T>
  std::optional<T> scalar() const {
    if (empty()) return std::nullopt;
    return at(0).get<T>(0);
  }
  /// First column of exactly one row.
  template <Decodable T>
  T scalar_one() const {
    return one().get<T>(0);
  }
  /// First column of every row.
  template <Decodable T>
  std::vector<T> scalars() const {
    std::vector<T> out;
    out.reserve(size());
    for (std::size_t i = 0; i < size(); ++i) out.push_back(Row(rs_, i).get<T>(0));
    return out;
  }
  /// The underlying driver result.
  const std::shared_ptr<const ResultSet>& result_set() const noexcept { return rs_; }

 private:
  std::shared_ptr<const ResultSet> rs_;
};

}  // namespace corm
