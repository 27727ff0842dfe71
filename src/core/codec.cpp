#include "corm/core/codec.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

#include "corm/core/error.hpp"
#include "core/excerpt.hpp"
#include "core/pg_binary.hpp"
#include "core/temporal.hpp"

namespace corm::detail {

namespace {

[[noreturn]] void throw_unreadable(const Cell& c, std::string_view cpp_type, std::string_view why) {
  std::string msg = "cannot read ";
  msg += describe_cell(c);
  msg += " as ";
  msg += cpp_type;
  if (!why.empty()) {
    msg += ": ";
    msg += why;
  }
  throw DataError(msg);
}

void require_not_null(const Cell& c, std::string_view cpp_type) {
  if (c.is_null()) throw_null_into_non_optional(cpp_type);
}

[[noreturn]] void throw_out_of_range(std::string_view digits, std::int64_t min, std::int64_t max,
                                     std::string_view cpp_type) {
  throw DataError("value " + std::string(digits.substr(0, 40)) + " does not fit in " +
                  std::string(cpp_type) + " (range " + std::to_string(min) + ".." +
                  std::to_string(max) + "); use a wider integer type");
}

std::int64_t check_range(std::int64_t v, std::int64_t min, std::int64_t max, std::string_view cpp_type) {
  if (v < min || v > max) throw_out_of_range(std::to_string(v), min, max, cpp_type);
  return v;
}

// SQLite renders a REAL as text with 15 significant digits and always a decimal point
// ("%!.15g": 2.0 → "2.0", 0.1 → "0.1"). A Decimal read from a REAL cell gets those same digits,
// written out positionally because Decimal has no exponent form.
std::string real_as_sqlite_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific, 14);
  (void)ec;  // 64 bytes always hold 15 significant digits and an exponent.
  std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  const auto e_pos = sci.find('e');
  int exp = 0;
  std::from_chars(sci.data() + e_pos + 1 + (sci[e_pos + 1] == '+'), sci.data() + sci.size(), exp);
  std::string mantissa;
  bool negative = false;
  for (char ch : sci.substr(0, e_pos)) {
    if (ch == '-') negative = true;
    else if (ch != '.') mantissa.push_back(ch);
  }
  while (mantissa.size() > 1 && mantissa.back() == '0') mantissa.pop_back();
  // The decimal point goes after digit (exp + 1) of the mantissa.
  std::string out = negative ? "-" : "";
  const int point = exp + 1;
  if (point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-point), '0');
    out += mantissa;
  } else if (static_cast<std::size_t>(point) >= mantissa.size()) {
    out += mantissa;
    out.append(static_cast<std::size_t>(point) - mantissa.size(), '0');
    out += ".0";
  } else {
    out += mantissa.substr(0, static_cast<std::size_t>(point));
    out += '.';
    out += mantissa.substr(static_cast<std::size_t>(point));
  }
  return out;
}

std::string_view pg_type_name(std::uint32_t oid) noexcept {
  switch (oid) {
    case pg_oid::boolean: return "boolean";
    case pg_oid::bytea: return "bytea";
    case pg_oid::int8: return "bigint";
    case pg_oid::int2: return "smallint";
    case pg_oid::int4: return "integer";
    case pg_oid::text: return "text";
    case pg_oid::json: return "json";
    case pg_oid::jsonb: return "jsonb";
    case pg_oid::float4: return "real";
    case pg_oid::float8: return "double precision";
    case pg_oid::varchar: return "varchar";
    case pg_oid::date: return "date";
    case pg_oid::timestamp: return "timestamp";
    case pg_oid::timestamptz: return "timestamptz";
    case pg_oid::numeric: return "numeric";
    case pg_oid::uuid: return "uuid";
    default: return {};
  }
}

int hex_value(char ch) noexcept {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// A value PostgreSQL sent in binary, read by `decode` as the text the server would have sent:
// a statement's first run returns text and its later runs binary, so both must read alike.
template <class F>
auto via_text(const Cell& c, F decode) {
  const std::string text = pg_binary_text(c);
  Cell t = c;
  t.kind = Cell::Kind::text;
  t.s = text;
  return decode(t);
}

}  // namespace

void throw_null_into_non_optional(std::string_view cpp_type) {
  std::string t(cpp_type);
  throw DataError("NULL cannot be read into " + t + "; declare the field std::optional<" + t +
                  "> or use COALESCE in the query");
}

std::string describe_cell(const Cell& c) {
  if (is_pg_binary(c)) {
    try {
      return via_text(c, describe_cell);
    } catch (const DataError&) {  // malformed: fall through to the bytes
    }
  }
  switch (c.kind) {
    case Cell::Kind::null: return "NULL";
    case Cell::Kind::integer: return "integer " + std::to_string(c.i);
    case Cell::Kind::real: {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, c.d);
      (void)ec;
      return "real " + std::string(buf, end);
    }
    case Cell::Kind::text: {
      std::string out = "text " + quote_excerpt(c.s);
      if (auto name = pg_type_name(c.pg_type); !name.empty()) {
        out += " (PostgreSQL ";
        out += name;
        out += ')';
      }
      return out;
    }
    case Cell::Kind::blob: return "blob of " + std::to_string(c.s.size()) + " bytes";
  }
  return "cell";
}

bool decode_bool(const Cell& c) {
  require_not_null(c, "bool");
  if (is_pg_binary(c)) {
    if (c.pg_type == pg_oid::boolean && c.s.size() == 1) return c.s[0] != 0;
    return via_text(c, decode_bool);
  }
  if (c.kind == Cell::Kind::integer) {
    if (c.i == 0 || c.i == 1) return c.i == 1;
    throw_unreadable(c, "bool", "only 0 and 1 are booleans");
  }
  if (c.kind == Cell::Kind::text) {
    // PostgreSQL prints 't'/'f'; the long forms cover hand-written SQLite data.
    const std::string_view s = c.s;
    if (s == "t" || s == "true" || s == "1" || s == "TRUE") return true;
    if (s == "f" || s == "false" || s == "0" || s == "FALSE") return false;
  }
  throw_unreadable(c, "bool", "expected a boolean (0/1, 't'/'f')");
}

std::int64_t decode_int(const Cell& c, std::int64_t min, std::int64_t max, std::string_view cpp_type) {
  require_not_null(c, cpp_type);
  if (is_pg_binary(c) && c.kind != Cell::Kind::integer)
    return via_text(c, [&](const Cell& t) { return decode_int(t, min, max, cpp_type); });
  switch (c.kind) {
    case Cell::Kind::integer: return check_range(c.i, min, max, cpp_type);
    case Cell::Kind::real: {
      // SQLite hands back REAL for an integer that passed through float arithmetic (AVG, a
      // REAL-affinity column); whole values are accepted, fractions never silently truncated.
      double ip = 0;
      if (!std::isfinite(c.d) || std::modf(c.d, &ip) != 0.0)
        throw_unreadable(c, cpp_type, "not a whole number; read it as double or round it in SQL");
      if (ip < -9223372036854775808.0 || ip >= 9223372036854775808.0) {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, ip, std::chars_format::fixed);
        (void)ec;
        throw_out_of_range(std::string_view(buf, static_cast<std::size_t>(end - buf)), min, max, cpp_type);
      }
      return check_range(static_cast<std::int64_t>(ip), min, max, cpp_type);
    }
    case Cell::Kind::text: {
      std::int64_t v = 0;
      const char* first = c.s.data();
      const char* last = first + c.s.size();
      auto [p, ec] = std::from_chars(first, last, v);
      if (ec == std::errc::result_out_of_range) {
        // from_chars stops at the last digit, so the excerpt is the number itself.
        throw_out_of_range(std::string_view(first, static_cast<std::size_t>(p - first)), min, max, cpp_type);
      }
      if (ec != std::errc{} || p != last) throw_unreadable(c, cpp_type, "not an integer");
      return check_range(v, min, max, cpp_type);
    }
    default: throw_unreadable(c, cpp_type, "expected an integer");
  }
}

double decode_double(const Cell& c, std::string_view cpp_type) {
  require_not_null(c, cpp_type);
  // float4 goes through its text: 0.1 sent as float4 reads as 0.1, not as 0.10000000149.
  if (is_pg_binary(c) && c.kind != Cell::Kind::integer && c.pg_type != pg_oid::float8)
    return via_text(c, [&](const Cell& t) { return decode_double(t, cpp_type); });
  double v = 0;
  switch (c.kind) {
    case Cell::Kind::real: v = c.d; break;
    case Cell::Kind::integer: v = static_cast<double>(c.i); break;
    case Cell::Kind::text: {
      // from_chars takes PostgreSQL's 'NaN', 'Infinity' and '-Infinity' (any case).
      const char* last = c.s.data() + c.s.size();
      auto [p, ec] = std::from_chars(c.s.data(), last, v);
      if (ec == std::errc::result_out_of_range) throw_unreadable(c, cpp_type, "out of range for a double");
      if (ec != std::errc{} || p != last) throw_unreadable(c, cpp_type, "not a number");
      break;
    }
    default: throw_unreadable(c, cpp_type, "expected a number");
  }
  if (cpp_type == "float" && std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max())
    throw_unreadable(c, cpp_type, "out of range for a float; read it as double");
  return v;
}

std::string decode_string(const Cell& c) {
  require_not_null(c, "std::string");
  if (is_pg_binary(c)) return pg_binary_text(c);
  switch (c.kind) {
    case Cell::Kind::text: return std::string(c.s);
    // SQLite's type affinity can turn text that looks numeric into a number; give it back in
    // the spelling SQLite itself uses for CAST(x AS TEXT).
    case Cell::Kind::integer: return std::to_string(c.i);
    case Cell::Kind::real: return real_as_sqlite_text(c.d);
    default: throw_unreadable(c, "std::string", "binary data is read as corm::Bytes");
  }
}

Bytes decode_bytes(const Cell& c) {
  require_not_null(c, "corm::Bytes");
  const auto* p = reinterpret_cast<const std::byte*>(c.s.data());
  if (is_pg_binary(c)) {
    if (c.kind == Cell::Kind::blob && c.pg_type == pg_oid::bytea) return Bytes(p, p + c.s.size());
    return via_text(c, decode_bytes);
  }
  if (c.kind == Cell::Kind::blob || (c.kind == Cell::Kind::text && c.pg_type != pg_oid::bytea))
    return Bytes(p, p + c.s.size());
  if (c.kind == Cell::Kind::text) {
    // PostgreSQL's text output of bytea: '\x' followed by two hex digits per byte.
    const std::string_view s = c.s;
    if (s.size() < 2 || s[0] != '\\' || s[1] != 'x' || s.size() % 2 != 0)
      throw_unreadable(c, "corm::Bytes", "expected bytea in hex format ('\\x...'); set bytea_output = 'hex'");
    Bytes out((s.size() - 2) / 2);
    for (std::size_t i = 2, o = 0; i < s.size(); i += 2, ++o) {
      const int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
      if (hi < 0 || lo < 0) throw_unreadable(c, "corm::Bytes", "invalid hex digit in bytea");
      out[o] = static_cast<std::byte>(hi * 16 + lo);
    }
    return out;
  }
  throw_unreadable(c, "corm::Bytes", "expected binary data");
}

Timestamp decode_timestamp(const Cell& c) {
  require_not_null(c, "corm::Timestamp");
  if (is_pg_binary(c)) {
    if (c.kind == Cell::Kind::blob && (c.pg_type == pg_oid::timestamp || c.pg_type == pg_oid::timestamptz))
      if (auto t = pg_binary_timestamp(c.s)) return *t;
    return via_text(c, decode_timestamp);
  }
  if (c.kind == Cell::Kind::integer) {
    // Unix seconds, as SQLite's unixepoch() and strftime('%s') produce.
    constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 1'000'000;
    if (c.i > limit || c.i < -limit) throw_unreadable(c, "corm::Timestamp", "out of range as unix seconds");
    return Timestamp{std::chrono::seconds{c.i}};
  }
  if (c.kind == Cell::Kind::text) {
    if (auto t = parse_timestamp(c.s)) return *t;
    if (c.s == "infinity" || c.s == "-infinity")
      throw_unreadable(c, "corm::Timestamp", "infinite timestamps have no C++ value; filter or COALESCE them");
    throw_unreadable(c, "corm::Timestamp", "expected 'YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]'");
  }
  throw_unreadable(c, "corm::Timestamp", "expected timestamp text or unix seconds");
}

Date decode_date(const Cell& c) {
  require_not_null(c, "corm::Date");
  if (is_pg_binary(c)) {
    if (c.kind == Cell::Kind::blob && c.pg_type == pg_oid::date)
      if (auto d = pg_binary_date(c.s)) return *d;
    return via_text(c, decode_date);
  }
  if (c.kind == Cell::Kind::text) {
    if (auto d = parse_date(c.s)) return *d;
    throw_unreadable(c, "corm::Date", "expected 'YYYY-MM-DD'");
  }
  throw_unreadable(c, "corm::Date", "expected date text");
}

Decimal decode_decimal(const Cell& c) {
  require_not_null(c, "corm::Decimal");
  if (is_pg_binary(c)) {
    if (c.pg_type == pg_oid::numeric) {  // straight from the wire digits, without a Cell copy
      if (auto n = pg_binary_numeric_scaled(c.s)) return Decimal::from_scaled(n->units, n->digits);
      if (auto text = pg_binary_numeric(c.s)) return decimal_from_canonical(std::move(*text));
    }
    return via_text(c, decode_decimal);
  }
  switch (c.kind) {
    case Cell::Kind::text:
      try {
        return Decimal(c.s);
      } catch (const DataError&) {
        throw_unreadable(c, "corm::Decimal", "not a decimal number");
      }
    case Cell::Kind::integer: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, c.i);
      (void)ec;
      return Decimal(std::string_view(buf, static_cast<std::size_t>(end - buf)));
    }
    case Cell::Kind::real: return Decimal(real_as_sqlite_text(c.d));
    default: throw_unreadable(c, "corm::Decimal", "expected a number");
  }
}

Uuid decode_uuid(const Cell& c) {
  require_not_null(c, "corm::Uuid");
  if (is_pg_binary(c) && !(c.kind == Cell::Kind::blob && c.pg_type == pg_oid::uuid))
    return via_text(c, decode_uuid);
  if (c.kind == Cell::Kind::text) {
    try {
      return Uuid(c.s);
    } catch (const DataError&) {
      throw_unreadable(c, "corm::Uuid", "not a UUID");
    }
  }
  if (c.kind == Cell::Kind::blob && c.s.size() == 16) {
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), c.s.data(), 16);
    return Uuid(bytes);
  }
  throw_unreadable(c, "corm::Uuid", "expected UUID text or a 16-byte blob");
}

}  // namespace corm::detail
