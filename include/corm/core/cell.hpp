#pragma once
// A borrowed view of one result cell, as a driver hands it to the decoders. Drivers never
// allocate per cell: PostgreSQL cells point into the PGresult, SQLite cells into the row buffer.

#include <cstdint>
#include <string_view>

namespace corm {

/// What a driver knows about a cell: its storage class and, on PostgreSQL, the column's type OID.
struct Cell {
  /// Storage class of a cell: NULL, 64-bit integer, double, text or raw bytes.
  enum class Kind : std::uint8_t { null, integer, real, text, blob };
  // kind and pg_type share the first 8 bytes: 40 bytes a cell rather than 48 (a load writes
  // one per column per row).
  /// The cell's storage class; says which of i, d and s holds the value.
  Kind kind = Kind::null;
  std::uint32_t pg_type = 0;    ///< PostgreSQL type OID of the cell's column; 0 on SQLite.
  std::int64_t i = 0;           ///< Set when kind == integer.
  double d = 0;                 ///< Set when kind == real.
  /// Text (kind == text) or raw bytes (kind == blob; on PostgreSQL, a binary-format value of
  /// type pg_type, e.g. a uuid's 16 bytes or a timestamp's 8).
  std::string_view s;

  /// True when the cell is SQL NULL.
  bool is_null() const noexcept { return kind == Kind::null; }
};

/// PostgreSQL type OIDs corm decodes specially.
namespace pg_oid {
/// OID of the PostgreSQL type of the same name (int8_array is `int8[]`, text_array `text[]`).
///@{
inline constexpr std::uint32_t boolean = 16, bytea = 17, int8 = 20, int2 = 21, int4 = 23,
                               text = 25, oid = 26, json = 114, float4 = 700, float8 = 701,
                               bpchar = 1042, varchar = 1043, date = 1082, time = 1083,
                               timestamp = 1114, timestamptz = 1184, numeric = 1700,
                               uuid = 2950, jsonb = 3802, int8_array = 1016, text_array = 1009;
///@}
}

}  // namespace corm
