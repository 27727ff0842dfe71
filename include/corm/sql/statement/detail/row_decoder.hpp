#pragma once
// How a statement's row type is read from a Row: a mapped entity (its columns in declaration
// order), a tuple of entities (select<A, B>(): each entity's columns in turn), or a tuple of
// column values (select(col(...), ...): one cell each).

#include <tuple>
#include <type_traits>

#include "corm/core/result.hpp"
#include "corm/sql/schema/hydrate.hpp"

namespace corm::detail {

template <class R>
struct RowDecoder;

template <Mapped T>
struct RowDecoder<T> {
  static T decode(const Row& row) { return from_row<T>(row, 0); }
};

template <class... Ts>
struct RowDecoder<std::tuple<Ts...>> {
  static std::tuple<Ts...> decode(const Row& row) {
    if constexpr ((Mapped<Ts> && ...)) {
      std::size_t offset = 0;
      // Braced init evaluates left to right, so each entity reads the cells after the last one.
      return std::tuple<Ts...>{read_entity<Ts>(row, offset)...};
    } else {
      return row.template as<Ts...>();
    }
  }
  template <class T>
  static T read_entity(const Row& row, std::size_t& offset) {
    T obj = from_row<T>(row, offset);
    offset += table_info<T>().columns.size();
    return obj;
  }
};

template <>
struct RowDecoder<void> {};

}  // namespace corm::detail
