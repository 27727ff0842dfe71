#include "core/pg_binary.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

#include "corm/core/error.hpp"
#include "core/temporal.hpp"

namespace corm::detail {

namespace {

using namespace std::chrono;

// PostgreSQL's epoch for timestamps and dates is 2000-01-01.
constexpr std::int64_t pg_epoch_unix_us = 946'684'800'000'000;
constexpr std::int32_t pg_epoch_unix_days = 10'957;

[[noreturn]] void malformed(const Cell& c, std::string_view type) {
  throw DataError("malformed binary PostgreSQL " + std::string(type) + " value (" + std::to_string(c.s.size()) +
                  " bytes); the server and corm disagree on the wire format");
}

// float4out / float8out (extra_float_digits > 0, the default since PostgreSQL 12): the shortest
// digits that read back exactly, positional when the decimal exponent is in [-4, 6) for float4
// and [-4, 15) for float8, else d.ddde±XX.
std::string pg_float_text(double d, bool single) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  char buf[64];
  auto [end, ec] = single ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(d), std::chars_format::scientific)
                          : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  (void)ec;
  const std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  const auto e_pos = sci.find('e');
  int exp = 0;
  std::from_chars(sci.data() + e_pos + 1 + (sci[e_pos + 1] == '+'), sci.data() + sci.size(), exp);
  if (exp < -4 || exp >= (single ? 6 : 15)) return std::string(sci);
  std::string out;
  std::string digits;
  for (char ch : sci.substr(0, e_pos)) {
    if (ch == '-') out.push_back('-');
    else if (ch != '.') digits.push_back(ch);
  }
  const int n = static_cast<int>(digits.size());
  if (exp < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exp - 1), '0');
    out += digits;
  } else if (exp >= n - 1) {
    out += digits;
    out.append(static_cast<std::size_t>(exp - n + 1), '0');
  } else {
    out.append(digits, 0, static_cast<std::size_t>(exp + 1));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(exp + 1));
  }
  return out;
}

// timestamp_out / timestamptz_out under DateStyle ISO and TimeZone UTC: the fraction loses its
// trailing zeros (and its point when it is zero), timestamptz adds "+00", BC years end in " BC".
std::string pg_timestamp_text(Timestamp t, bool with_zone) {
  std::string s = format_timestamp(t);  // 'YYYY-MM-DD HH:MM:SS.ffffff[ BC]'
  const bool bc = s.ends_with(" BC");
  if (bc) s.resize(s.size() - 3);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (with_zone) s += "+00";
  if (bc) s += " BC";
  return s;
}

}  // namespace

PgBinaryKind pg_binary_kind(std::uint32_t oid) noexcept {
  switch (oid) {
    case pg_oid::int2: return PgBinaryKind::int2;
    case pg_oid::int4: return PgBinaryKind::int4;
    case pg_oid::int8: return PgBinaryKind::int8;
    case pg_oid::oid: return PgBinaryKind::oid;
    case pg_oid::float4: return PgBinaryKind::float4;
    case pg_oid::float8: return PgBinaryKind::float8;
    case pg_oid::text:
    case pg_oid::varchar:
    case pg_oid::bpchar:
    case pg_oid::json:
    case 19:  // name: the catalogs' identifier type, sent as its bytes
      return PgBinaryKind::text;
    case pg_oid::jsonb: return PgBinaryKind::jsonb;
    case pg_oid::boolean:
    case pg_oid::bytea:
    case pg_oid::date:
    case pg_oid::timestamp:
    case pg_oid::timestamptz:
    case pg_oid::numeric:
    case pg_oid::uuid: return PgBinaryKind::raw;
    default: return PgBinaryKind::none;
  }
}

std::optional<Timestamp> pg_binary_timestamp(std::string_view v) noexcept {
  if (v.size() != 8) return std::nullopt;
  const auto us = static_cast<std::int64_t>(pg_wire::u64(v.data()));
  if (us == std::numeric_limits<std::int64_t>::max() || us == std::numeric_limits<std::int64_t>::min())
    return std::nullopt;
  return Timestamp{microseconds{us + pg_epoch_unix_us}};
}

std::optional<Date> pg_binary_date(std::string_view v) noexcept {
  if (v.size() != 4) return std::nullopt;
  const auto d = static_cast<std::int32_t>(pg_wire::u32(v.data()));
  if (d == std::numeric_limits<std::int32_t>::max() || d == std::numeric_limits<std::int32_t>::min())
    return std::nullopt;
  return Date{days{static_cast<std::int64_t>(d) + pg_epoch_unix_days}};
}

namespace {

// numeric_send: ndigits, weight (of the first base-10000 digit), sign, dscale (digits after the
// point), then the base-10000 digits.
struct NumericHeader {
  int ndigits, weight;
  std::uint16_t sign;
  int dscale;
};

// nullopt when `v` is shorter than its header says.
std::optional<NumericHeader> numeric_header(std::string_view v) noexcept {
  if (v.size() < 8) return std::nullopt;
  const char* p = v.data();
  const NumericHeader h{pg_wire::u16(p), static_cast<std::int16_t>(pg_wire::u16(p + 2)), pg_wire::u16(p + 4),
                        pg_wire::u16(p + 6)};
  if (v.size() != 8 + 2 * static_cast<std::size_t>(h.ndigits)) return std::nullopt;
  return h;
}

}  // namespace

// Rendered as numeric_out does (get_str_from_var).
std::optional<std::string> pg_binary_numeric(std::string_view v) {
  const auto h = numeric_header(v);
  if (!h) return std::nullopt;
  const char* p = v.data();
  const int ndigits = h->ndigits, weight = h->weight, dscale = h->dscale;
  const std::uint16_t sign = h->sign;
  switch (sign) {
    case 0xC000: return std::string("NaN");
    case 0xD000: return std::string("Infinity");
    case 0xF000: return std::string("-Infinity");
    case 0x0000:
    case 0x4000: break;
    default: return std::nullopt;
  }
  // Written in place into a buffer sized for the worst case, then trimmed: this runs once per
  // numeric cell (10,000 per W4 load).
  const std::size_t int_groups = weight >= 0 ? static_cast<std::size_t>(weight) + 1 : 0;
  std::string out(2 + int_groups * 4 + 1 + static_cast<std::size_t>(dscale) + 4, '\0');
  char* o = out.data();
  if (sign == 0x4000) *o++ = '-';
  bool bad = false;
  auto digit = [&](int i) -> int {
    if (i < 0 || i >= ndigits) return 0;
    const int d = pg_wire::u16(p + 8 + 2 * i);
    bad |= d > 9999;
    return d;
  };
  auto put4 = [&o](int d) {
    o[0] = static_cast<char>('0' + d / 1000);
    o[1] = static_cast<char>('0' + d / 100 % 10);
    o[2] = static_cast<char>('0' + d / 10 % 10);
    o[3] = static_cast<char>('0' + d % 10);
    o += 4;
  };
  if (weight < 0) {
    *o++ = '0';
  } else {
    const int first = digit(0);  // without its leading zeros
    if (first >= 1000) put4(first);
    else if (first >= 100) *o++ = static_cast<char>('0' + first / 100), *o++ = static_cast<char>('0' + first / 10 % 10), *o++ = static_cast<char>('0' + first % 10);
    else if (first >= 10) *o++ = static_cast<char>('0' + first / 10), *o++ = static_cast<char>('0' + first % 10);
    else *o++ = static_cast<char>('0' + first);
    for (int i = 1; i <= weight; ++i) put4(digit(i));
  }
  if (dscale > 0) {
    *o++ = '.';
    char* const point = o;
    for (int i = weight + 1; o - point < dscale; ++i) put4(digit(i));
    o = point + dscale;
  }
  if (bad) return std::nullopt;
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

std::optional<ScaledNumeric> pg_binary_numeric_scaled(std::string_view v) noexcept {
  const auto h = numeric_header(v);
  if (!h || (h->sign != 0x0000 && h->sign != 0x4000)) return std::nullopt;
  const char* p = v.data();
  const int ndigits = h->ndigits, weight = h->weight, dscale = h->dscale;
  const std::uint16_t sign = h->sign;
  // Base-10000 groups from the highest integer one (position `weight`, or the units group) down
  // to the last group that holds a digit within dscale.
  const int groups_after_point = (dscale + 3) / 4;
  std::uint64_t acc = 0;
  for (int pos = weight > 0 ? weight : 0; pos >= -groups_after_point; --pos) {
    const int i = weight - pos;
    std::uint64_t d = 0;
    if (i >= 0 && i < ndigits) {
      d = pg_wire::u16(p + 8 + 2 * i);
      if (d > 9999) return std::nullopt;
    }
    if (acc > (std::numeric_limits<std::uint64_t>::max() - 9999) / 10000) return std::nullopt;
    acc = acc * 10000 + d;
  }
  // acc is the value × 10^(4 · groups_after_point); the digits past dscale are dropped.
  static constexpr std::uint64_t drop[] = {1, 10, 100, 1000};
  acc /= drop[4 * groups_after_point - dscale];
  if (acc > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  // A negative zero is left to the text form, which spells it as the server would.
  if (sign == 0x4000 && acc == 0) return std::nullopt;
  const auto units = static_cast<std::int64_t>(acc);
  return ScaledNumeric{sign == 0x4000 ? -units : units, dscale};
}

std::string pg_binary_text(const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::integer: return std::to_string(c.i);
    case Cell::Kind::real: return pg_float_text(c.d, c.pg_type == pg_oid::float4);
    case Cell::Kind::text: return std::string(c.s);
    case Cell::Kind::null: return std::string();
    case Cell::Kind::blob: break;
  }
  switch (c.pg_type) {
    case pg_oid::boolean:
      if (c.s.size() != 1) malformed(c, "boolean");
      return c.s[0] != 0 ? "t" : "f";
    case pg_oid::bytea: {
      static constexpr char hex[] = "0123456789abcdef";
      std::string out = "\\x";
      out.reserve(2 + 2 * c.s.size());
      for (unsigned char b : c.s) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 15]);
      }
      return out;
    }
    case pg_oid::date: {
      if (c.s.size() != 4) malformed(c, "date");
      if (auto d = pg_binary_date(c.s)) return format_date(*d);
      return static_cast<std::int32_t>(pg_wire::u32(c.s.data())) < 0 ? "-infinity" : "infinity";
    }
    case pg_oid::timestamp:
    case pg_oid::timestamptz: {
      if (c.s.size() != 8) malformed(c, "timestamp");
      if (auto t = pg_binary_timestamp(c.s)) return pg_timestamp_text(*t, c.pg_type == pg_oid::timestamptz);
      return static_cast<std::int64_t>(pg_wire::u64(c.s.data())) < 0 ? "-infinity" : "infinity";
    }
    case pg_oid::numeric:
      if (auto n = pg_binary_numeric(c.s)) return std::move(*n);
      malformed(c, "numeric");
    case pg_oid::uuid: {
      if (c.s.size() != 16) malformed(c, "uuid");
      std::array<std::uint8_t, 16> bytes{};
      std::memcpy(bytes.data(), c.s.data(), 16);
      return Uuid(bytes).str();
    }
    default:
      throw DataError("corm cannot read PostgreSQL type OID " + std::to_string(c.pg_type) +
                      " in binary format (" + std::to_string(c.s.size()) + " bytes)");
  }
}

}  // namespace corm::detail
