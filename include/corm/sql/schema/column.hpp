#pragma once
// corm::column: one mapped column of a model — name, member pointer, options. The column's
// ColumnType comes from the member type; std::optional<T> makes it nullable.

#include <string_view>
#include <tuple>
#include <type_traits>

#include "corm/sql/schema/column_options.hpp"
#include "corm/sql/schema/column_type.hpp"

namespace corm {

/// A column declaration (see corm::column). Literal, so mappings can be `constexpr`.
template <class C, class M, class... Opts>
struct ColumnDef {
  /// The mapped class (the model).
  using class_type = C;
  /// The member's type, e.g. `std::string` or `std::optional<int>`.
  using member_type = M;
  /// The column name in the database.
  std::string_view name;
  /// Pointer to the mapped data member.
  M C::*member;
  /// The column options given to corm::column, in order.
  std::tuple<Opts...> options;

  /// True when option type O was given.
  template <class O>
  static constexpr bool has = (std::is_same_v<O, Opts> || ...);
};

namespace detail {
template <class T> struct is_default_value : std::false_type {};
template <class V> struct is_default_value<DefaultValueOption<V>> : std::true_type {};
template <class T> struct is_default_factory : std::false_type {};
template <class R> struct is_default_factory<DefaultFactoryOption<R>> : std::true_type {};
template <class T> struct is_references : std::false_type {};
template <class C, class M> struct is_references<ReferencesOption<C, M>> : std::true_type {
  using member_type = M;
};

template <class M, class O>
constexpr void check_column_option() {
  using U = unoptional_t<M>;
  if constexpr (std::is_same_v<O, IdentityOption> || std::is_same_v<O, VersionOption>) {
    static_assert(std::is_integral_v<U> && !std::is_same_v<U, bool>,
                  "corm: identity and version_counter need an integer member");
  } else if constexpr (std::is_same_v<O, MaxLengthOption>) {
    static_assert(column_type_v<M> == ColumnType::text, "corm: max_length applies to text members");
  } else if constexpr (std::is_same_v<O, NumericOption>) {
    static_assert(column_type_v<M> == ColumnType::decimal, "corm: numeric(p, s) applies to corm::Decimal members");
  } else if constexpr (is_default_value<O>::value) {
    static_assert(std::is_constructible_v<U, decltype(O::value)>,
                  "corm: default_value's type does not convert to the member type");
  } else if constexpr (is_default_factory<O>::value) {
    static_assert(std::is_constructible_v<M, decltype(O::fn())>,
                  "corm: default_fn's return type does not convert to the member type");
  } else if constexpr (is_references<O>::value) {
    using R = typename is_references<O>::member_type;
    static_assert(ColumnValue<R> && column_type_v<M> == column_type_v<R>,
                  "corm: a foreign key must reference a column of the same type");
  } else {
    static_assert(std::is_same_v<O, PrimaryKeyOption> || std::is_same_v<O, UniqueOption> ||
                      std::is_same_v<O, IndexedOption> || std::is_same_v<O, ServerDefaultOption> ||
                      std::is_same_v<O, CheckOption>,
                  "corm: not a column option");
  }
}
}  // namespace detail

/// Declares a mapped column: `corm::column("title", &Book::title, corm::max_length(200))`.
/// Use inside `corm::table(...)` in a `corm::Model<T>` specialisation.
template <class C, ColumnValue M, class... Opts>
constexpr ColumnDef<C, M, Opts...> column(std::string_view name, M C::*member, Opts... opts) {
  (detail::check_column_option<M, Opts>(), ...);
  return {name, member, std::tuple<Opts...>{opts...}};
}

}  // namespace corm
