#pragma once
// The portable column types corm maps C++ member types to, and the trait that does the mapping.
// DDL renders a ColumnType per dialect; introspection normalises what a database reports back
// to the same enum, so declared and reflected schemas compare with ==.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "corm/core/value.hpp"

namespace corm {

/// A column's storage type, independent of dialect. `text` with a max_length is VARCHAR(n).
enum class ColumnType : std::uint8_t {
  boolean, int16, int32, int64, float32, float64, text, bytes, timestamp, date, decimal, uuid, json
};

/// "int64", "text", ... for messages and docs.
std::string_view column_type_name(ColumnType t) noexcept;

/// Maps a C++ member type to its ColumnType. Specialise it for your own types (an enum with a
/// Codec that stores text): `template <> struct corm::SqlType<Mood> { static constexpr auto
/// value = corm::ColumnType::text; };` — that also lets `col(&T::mood) == Mood::happy` compile.
template <class T>
struct SqlType;

/// \cond
// The built-in mappings (docs/types.md lists them) stay out of the API reference.
template <> struct SqlType<bool> { static constexpr ColumnType value = ColumnType::boolean; };
template <> struct SqlType<std::int16_t> { static constexpr ColumnType value = ColumnType::int16; };
template <> struct SqlType<std::int32_t> { static constexpr ColumnType value = ColumnType::int32; };
template <> struct SqlType<std::int64_t> { static constexpr ColumnType value = ColumnType::int64; };
template <> struct SqlType<float> { static constexpr ColumnType value = ColumnType::float32; };
template <> struct SqlType<double> { static constexpr ColumnType value = ColumnType::float64; };
template <> struct SqlType<std::string> { static constexpr ColumnType value = ColumnType::text; };
template <> struct SqlType<Bytes> { static constexpr ColumnType value = ColumnType::bytes; };
template <> struct SqlType<Timestamp> { static constexpr ColumnType value = ColumnType::timestamp; };
template <> struct SqlType<std::chrono::system_clock::time_point> {
  static constexpr ColumnType value = ColumnType::timestamp;
};
template <> struct SqlType<Date> { static constexpr ColumnType value = ColumnType::date; };
template <> struct SqlType<Decimal> { static constexpr ColumnType value = ColumnType::decimal; };
template <> struct SqlType<Uuid> { static constexpr ColumnType value = ColumnType::uuid; };
template <> struct SqlType<Json> { static constexpr ColumnType value = ColumnType::json; };
/// \endcond

namespace detail {
template <class T> struct unwrap_optional { using type = T; static constexpr bool value = false; };
template <class T> struct unwrap_optional<std::optional<T>> { using type = T; static constexpr bool value = true; };
}  // namespace detail

/// `std::optional<T>` → T; anything else unchanged.
template <class T>
using unoptional_t = typename detail::unwrap_optional<std::remove_cvref_t<T>>::type;

/// True for std::optional<T> (a nullable column).
template <class T>
inline constexpr bool is_optional_v = detail::unwrap_optional<std::remove_cvref_t<T>>::value;

/// A member type corm can store in a column: a type with a SqlType, optionally in std::optional.
template <class T>
concept ColumnValue = requires { { SqlType<unoptional_t<T>>::value } -> std::convertible_to<ColumnType>; };

/// The ColumnType of member type T (std::optional<T> maps like T, nullable).
template <ColumnValue T>
inline constexpr ColumnType column_type_v = SqlType<unoptional_t<T>>::value;

}  // namespace corm
