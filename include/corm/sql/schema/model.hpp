#pragma once
// corm::Model<T>: where a plain aggregate's mapping lives. Specialise it next to the struct:
//
//   template <> struct corm::Model<Author> {
//     static constexpr auto table = corm::table("authors",
//         corm::column("id", &Author::id, corm::primary_key, corm::identity),
//         corm::column("name", &Author::name, corm::max_length(100), corm::indexed),
//         corm::has_many("books", &Author::books, &Book::author_id));
//   };

#include <concepts>
#include <cstddef>
#include <limits>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "corm/sql/schema/table.hpp"

namespace corm {

/// Primary template: undefined. A type is mapped when this is specialised with a `table`.
template <class T>
struct Model;

namespace detail {
template <class P> struct is_column_def : std::false_type {};
template <class C, class M, class... O> struct is_column_def<ColumnDef<C, M, O...>> : std::true_type {};
template <class P> struct is_relationship_def : std::false_type {};
template <RelationshipKind K, class C, class T, class H, class L, class... O>
struct is_relationship_def<RelationshipDef<K, C, T, H, L, O...>> : std::true_type {};
template <class P> struct is_table_def : std::false_type {};
template <class... P> struct is_table_def<TableDef<P...>> : std::true_type {};
}  // namespace detail

/// A type with a corm::Model specialisation whose `table` is a corm::table(...).
template <class T>
concept Mapped = requires {
  Model<T>::table;
  requires detail::is_table_def<std::remove_cvref_t<decltype(Model<T>::table)>>::value;
};

namespace detail {
inline constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

template <Mapped T>
using parts_t = std::remove_cvref_t<decltype(Model<T>::table.parts)>;

template <Mapped T>
inline constexpr std::size_t part_count = std::tuple_size_v<parts_t<T>>;

/// Calls f(part, std::integral_constant<size_t, I>) for each part of T's table.
template <Mapped T, class F>
constexpr void for_each_part(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::get<I>(Model<T>::table.parts), std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<part_count<T>>{});
}

/// Number of columns of T.
template <Mapped T>
constexpr std::size_t column_count() {
  std::size_t n = 0;
  for_each_part<T>([&](const auto& p, auto) {
    if constexpr (is_column_def<std::remove_cvref_t<decltype(p)>>::value) ++n;
  });
  return n;
}

/// Column ordinal of `member` in T (declaration order among columns), or npos.
template <Mapped T, class M>
constexpr std::size_t column_index_of(M T::*member) {
  std::size_t n = 0, found = npos;
  for_each_part<T>([&](const auto& p, auto) {
    using P = std::remove_cvref_t<decltype(p)>;
    if constexpr (is_column_def<P>::value) {
      if constexpr (std::is_same_v<typename P::member_type, M> && std::is_same_v<typename P::class_type, T>)
        if (found == npos && p.member == member) found = n;
      ++n;
    }
  });
  return found;
}

/// True when T maps at least one column whose member type is M (a compile-time check that
/// col(&T::m) can name a column at all).
template <class T, class M>
constexpr bool has_column_of_type() {
  if constexpr (!Mapped<T>) {
    return false;
  } else {
    bool any = false;
    for_each_part<T>([&](const auto& p, auto) {
      using P = std::remove_cvref_t<decltype(p)>;
      if constexpr (is_column_def<P>::value)
        if constexpr (std::is_same_v<typename P::member_type, M>) any = true;
    });
    return any;
  }
}

/// Ordinal of T's single primary-key column, or npos when it has none or a composite key.
template <Mapped T>
constexpr std::size_t single_pk_index() {
  std::size_t n = 0, found = npos, count = 0;
  for_each_part<T>([&](const auto& p, auto) {
    using P = std::remove_cvref_t<decltype(p)>;
    if constexpr (is_column_def<P>::value) {
      if constexpr (P::template has<PrimaryKeyOption>) {
        found = n;
        ++count;
      }
      ++n;
    }
  });
  return count == 1 ? found : npos;
}

/// Relationship ordinal of `holder` in T, or npos.
template <Mapped T, class H>
constexpr std::size_t relationship_index_of(H T::*holder) {
  std::size_t n = 0, found = npos;
  for_each_part<T>([&](const auto& p, auto) {
    using P = std::remove_cvref_t<decltype(p)>;
    if constexpr (is_relationship_def<P>::value) {
      if constexpr (std::is_same_v<typename P::holder_type, H>)
        if (found == npos && p.holder == holder) found = n;
      ++n;
    }
  });
  return found;
}
}  // namespace detail

/// The table name T is mapped to.
template <Mapped T>
constexpr std::string_view table_name() {
  return Model<T>::table.name;
}

}  // namespace corm
