#pragma once
// Conversions between C++ types and database values, the same for both dialects.
// `Codec<T>::encode` turns a C++ value into a bound parameter; `Codec<T>::decode` reads a result
// cell. Decoders throw DataError describing the mismatch; Row adds the column name. Specialise
// Codec for your own types (an enum stored as text, a strong id) to map them everywhere.

#include <chrono>
#include <concepts>
#include <limits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "corm/core/cell.hpp"
#include "corm/core/value.hpp"

namespace corm {

/// Primary template: undefined, so an unmapped type fails to compile where it is used.
template <class T>
struct Codec;

namespace detail {
[[noreturn]] void throw_null_into_non_optional(std::string_view cpp_type);
bool decode_bool(const Cell& c);
std::int64_t decode_int(const Cell& c, std::int64_t min, std::int64_t max, std::string_view cpp_type);
double decode_double(const Cell& c, std::string_view cpp_type);
std::string decode_string(const Cell& c);
Bytes decode_bytes(const Cell& c);
Timestamp decode_timestamp(const Cell& c);
Date decode_date(const Cell& c);
Decimal decode_decimal(const Cell& c);
Uuid decode_uuid(const Cell& c);
/// Describes a cell for messages: "text '12x'", "NULL", "integer 300".
std::string describe_cell(const Cell& c);
}  // namespace detail

/// \cond
// The built-in codecs (docs/types.md lists them) stay out of the API reference.
template <>
struct Codec<bool> {
  static Value encode(bool v) { return Value(v); }
  static bool decode(const Cell& c) {
    // Inline: PostgreSQL's binary boolean, the common case; everything else (and every error)
    // takes the full decoder.
    if (c.kind == Cell::Kind::blob && c.pg_type == pg_oid::boolean && c.s.size() == 1) return c.s[0] != 0;
    return detail::decode_bool(c);
  }
  static constexpr std::string_view name = "bool";
};

template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && std::is_signed_v<I> && sizeof(I) >= 2)
struct Codec<I> {
  static Value encode(I v) { return Value(static_cast<std::int64_t>(v)); }
  static I decode(const Cell& c) {
    constexpr std::int64_t min = std::numeric_limits<I>::min(), max = std::numeric_limits<I>::max();
    if (c.kind == Cell::Kind::integer && c.i >= min && c.i <= max) return static_cast<I>(c.i);  // the common case, inline
    return static_cast<I>(detail::decode_int(c, min, max, name));
  }
  static constexpr std::string_view name = sizeof(I) == 2 ? "int16" : sizeof(I) == 4 ? "int32" : "int64";
};

template <>
struct Codec<double> {
  static Value encode(double v) { return Value(v); }
  static double decode(const Cell& c) {
    // Inline: a float8 or a SQLite REAL (a float4 goes through its text, see decode_double).
    if (c.kind == Cell::Kind::real && (c.pg_type == 0 || c.pg_type == pg_oid::float8)) return c.d;
    return detail::decode_double(c, name);
  }
  static constexpr std::string_view name = "double";
};

template <>
struct Codec<float> {
  static Value encode(float v) { return Value(v); }
  static float decode(const Cell& c) { return static_cast<float>(detail::decode_double(c, name)); }
  static constexpr std::string_view name = "float";
};

template <>
struct Codec<std::string> {
  static Value encode(const std::string& v) { return Value(v); }
  static std::string decode(const Cell& c) {
    if (c.kind == Cell::Kind::text) return std::string(c.s);  // the common case, inline
    return detail::decode_string(c);
  }
  /// decode() into an existing string, reusing its buffer (loading a row into an object).
  static void decode_into(const Cell& c, std::string& out) {
    if (c.kind == Cell::Kind::text) out.assign(c.s.data(), c.s.size());
    else out = detail::decode_string(c);
  }
  static constexpr std::string_view name = "std::string";
};

template <>
struct Codec<std::string_view> {
  static Value encode(std::string_view v) { return Value(v); }
  static constexpr std::string_view name = "std::string_view";
};

template <>
struct Codec<Bytes> {
  static Value encode(const Bytes& v) { return Value(v); }
  static Bytes decode(const Cell& c) { return detail::decode_bytes(c); }
  static constexpr std::string_view name = "corm::Bytes";
};

template <>
struct Codec<Timestamp> {
  static Value encode(Timestamp v) { return Value(v); }
  static Timestamp decode(const Cell& c) { return detail::decode_timestamp(c); }
  static constexpr std::string_view name = "corm::Timestamp";
};

/// system_clock::time_point (nanoseconds on Linux) travels as a microsecond Timestamp: the
/// databases keep microseconds, so sub-microsecond digits are truncated toward the past.
template <>
struct Codec<std::chrono::system_clock::time_point> {
  static Value encode(std::chrono::system_clock::time_point v) {
    return Value(std::chrono::floor<std::chrono::microseconds>(v));
  }
  static std::chrono::system_clock::time_point decode(const Cell& c) {
    return std::chrono::time_point_cast<std::chrono::system_clock::duration>(detail::decode_timestamp(c));
  }
  static constexpr std::string_view name = "std::chrono::system_clock::time_point";
};

template <>
struct Codec<Date> {
  static Value encode(Date v) { return Value(v); }
  static Date decode(const Cell& c) { return detail::decode_date(c); }
  static constexpr std::string_view name = "corm::Date";
};

template <>
struct Codec<Decimal> {
  static Value encode(const Decimal& v) { return Value(v); }
  static Decimal decode(const Cell& c) { return detail::decode_decimal(c); }
  static constexpr std::string_view name = "corm::Decimal";
};

template <>
struct Codec<Uuid> {
  static Value encode(const Uuid& v) { return Value(v); }
  static Uuid decode(const Cell& c) { return detail::decode_uuid(c); }
  static constexpr std::string_view name = "corm::Uuid";
};

template <>
struct Codec<Json> {
  static Value encode(const Json& v) { return Value(v); }
  static Json decode(const Cell& c) { return Json{detail::decode_string(c)}; }
  static constexpr std::string_view name = "corm::Json";
};

/// \endcond

/// NULL ⇄ std::nullopt. Every other codec refuses NULL.
template <class T>
struct Codec<std::optional<T>> {
  /// NULL for std::nullopt, otherwise the value as Codec<T> encodes it.
  static Value encode(const std::optional<T>& v) { return v ? Codec<T>::encode(*v) : Value(); }
  /// std::nullopt for a NULL cell, otherwise the value as Codec<T> decodes it (DataError when
  /// it does not fit T).
  static std::optional<T> decode(const Cell& c) {
    if (c.is_null()) return std::nullopt;
    return Codec<T>::decode(c);
  }
  /// The type name DataError messages give: the same as T's.
  static constexpr std::string_view name = Codec<T>::name;
};

/// A type corm can bind as a parameter.
template <class T>
concept Encodable = requires(const T& v) {
  { Codec<std::remove_cvref_t<T>>::encode(v) } -> std::same_as<Value>;
};

/// A type corm can read from a result cell.
template <class T>
concept Decodable = requires(const Cell& c) {
  { Codec<T>::decode(c) } -> std::same_as<T>;
};

/// Binds any encodable value: `corm::to_value(std::optional<int>{})` is NULL.
template <Encodable T>
Value to_value(const T& v) {
  return Codec<std::remove_cvref_t<T>>::encode(v);
}

}  // namespace corm
