#pragma once
// PostgreSQL's binary wire format, for the types corm reads without text parsing. The driver asks
// for binary results only when every column of a prepared statement has one of these types; a
// statement with any other column keeps text results. Binary cells must read back exactly as the
// same value sent as text would (a statement's first run is text, its later runs binary), so
// every decoder without a direct binary path goes through pg_binary_text(), PostgreSQL's own
// text output under the session settings corm fixes (DateStyle ISO, TimeZone UTC).

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "corm/core/cell.hpp"
#include "corm/core/value.hpp"

namespace corm::detail {

/// How a binary column becomes a Cell (chosen once per column from its type OID).
enum class PgBinaryKind : std::uint8_t {
  none,     ///< not read in binary: the statement keeps text results
  int2,     ///< → Cell::Kind::integer
  int4,     ///< → Cell::Kind::integer
  int8,     ///< → Cell::Kind::integer
  oid,      ///< → Cell::Kind::integer (unsigned 32-bit)
  float4,   ///< → Cell::Kind::real
  float8,   ///< → Cell::Kind::real
  text,     ///< text, varchar, bpchar, json: the same bytes as text format → Cell::Kind::text
  jsonb,    ///< a version byte, then the JSON text → Cell::Kind::text
  raw,      ///< bool, bytea, date, timestamp(tz), numeric, uuid → Cell::Kind::blob, decoded by type
};

/// The kind for type `oid`; PgBinaryKind::none when corm does not read it in binary.
PgBinaryKind pg_binary_kind(std::uint32_t oid) noexcept;

namespace pg_wire {
inline std::uint16_t u16(const char* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline std::uint32_t u32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline std::uint64_t u64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
}  // namespace pg_wire

/// The Cell for a non-NULL binary value of a column of `kind` and type `oid`. A value whose
/// length does not fit its type becomes a blob, which every decoder rejects with its bytes.
inline Cell pg_binary_cell(PgBinaryKind kind, std::uint32_t oid, const char* data, std::size_t len) noexcept {
  Cell c;
  c.pg_type = oid;
  c.s = std::string_view(data, len);
  c.kind = Cell::Kind::blob;
  switch (kind) {
    case PgBinaryKind::int2:
      if (len == 2) c.kind = Cell::Kind::integer, c.i = static_cast<std::int16_t>(pg_wire::u16(data));
      break;
    case PgBinaryKind::int4:
      if (len == 4) c.kind = Cell::Kind::integer, c.i = static_cast<std::int32_t>(pg_wire::u32(data));
      break;
    case PgBinaryKind::int8:
      if (len == 8) c.kind = Cell::Kind::integer, c.i = static_cast<std::int64_t>(pg_wire::u64(data));
      break;
    case PgBinaryKind::oid:
      if (len == 4) c.kind = Cell::Kind::integer, c.i = pg_wire::u32(data);
      break;
    case PgBinaryKind::float4:
      if (len == 4) {
        const std::uint32_t bits = pg_wire::u32(data);
        float f;
        std::memcpy(&f, &bits, 4);
        c.kind = Cell::Kind::real, c.d = f;
      }
      break;
    case PgBinaryKind::float8:
      if (len == 8) {
        const std::uint64_t bits = pg_wire::u64(data);
        std::memcpy(&c.d, &bits, 8);
        c.kind = Cell::Kind::real;
      }
      break;
    case PgBinaryKind::text: c.kind = Cell::Kind::text; break;
    case PgBinaryKind::jsonb:
      if (len >= 1 && data[0] == 1) c.kind = Cell::Kind::text, c.s.remove_prefix(1);
      break;
    case PgBinaryKind::raw:
    case PgBinaryKind::none: break;
  }
  return c;
}

/// True for a cell that came from PostgreSQL in binary and is not plain text (the decoders'
/// cue to use a binary path or pg_binary_text()).
inline bool is_pg_binary(const Cell& c) noexcept { return c.pg_type != 0 && c.kind != Cell::Kind::text && c.kind != Cell::Kind::null; }

/// PostgreSQL's text output of a binary cell (is_pg_binary): what the server would have sent
/// in text format. Throws DataError for a value malformed for its type.
std::string pg_binary_text(const Cell& c);

/// timestamp / timestamptz (microseconds since 2000-01-01 UTC); nullopt for ±infinity.
std::optional<Timestamp> pg_binary_timestamp(std::string_view v) noexcept;
/// date (days since 2000-01-01); nullopt for ±infinity.
std::optional<Date> pg_binary_date(std::string_view v) noexcept;
/// numeric as its text ("-12.3400", "NaN", "Infinity"); nullopt when malformed.
std::optional<std::string> pg_binary_numeric(std::string_view v);
/// A finite numeric as `units` × 10^-`digits` (digits = the value's dscale), truncated where
/// numeric_out truncates; nullopt when the units do not fit in 64 bits, for NaN / ±Infinity, or
/// when malformed — pg_binary_numeric() then has the text.
struct ScaledNumeric {
  std::int64_t units;
  int digits;
};
std::optional<ScaledNumeric> pg_binary_numeric_scaled(std::string_view v) noexcept;

}  // namespace corm::detail
