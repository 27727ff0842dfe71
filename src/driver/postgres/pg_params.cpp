#include "driver/postgres/pg_params.hpp"

#include <charconv>
#include <cmath>
#include <climits>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "corm/core/cell.hpp"
#include "core/temporal.hpp"
#include "corm/core/error.hpp"

namespace corm::driver::postgres {

namespace {

constexpr std::size_t borrowed = std::numeric_limits<std::size_t>::max();

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

void append_double(std::string& out, double v) {
  if (std::isnan(v)) { out += "NaN"; return; }
  if (std::isinf(v)) { out += v > 0 ? "Infinity" : "-Infinity"; return; }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that round-trips
  out.append(buf, p);
}

// The shared text form (core/temporal) plus an explicit UTC offset, so the server never applies
// its own TimeZone to the value.
void append_timestamp(std::string& out, Timestamp t) {
  std::string text = detail::format_timestamp(t);
  const auto bc = text.rfind(" BC");
  if (bc != std::string::npos) text.insert(bc, "+00");
  else text += "+00";
  out += text;
}

void append_date(std::string& out, Date d) { out += detail::format_date(d); }

void check_text(std::string_view s) {
  if (s.find('\0') != std::string_view::npos)
    throw DataError("a text parameter contains a NUL byte, which PostgreSQL text cannot store; "
                    "bind it as corm::Bytes (bytea) instead");
}

void append_array_element(std::string& out, const Value& v) {
  if (v.is_null()) { out += "NULL"; return; }
  std::string tmp;
  append_text(tmp, v);
  out += '"';
  for (char c : tmp) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

Oid array_oid(const Array& a) {
  Oid elem = 0;
  for (const Value& v : a.items) {
    Oid o = 0;
    switch (v.storage().index()) {
      case 0: continue;  // NULL says nothing about the element type
      case 1: o = 1000; break;   // bool[]
      case 2: o = pg_oid::int8_array; break;
      case 3: o = 1022; break;   // float8[]
      case 6: o = 1185; break;   // timestamptz[]
      case 7: o = 1182; break;   // date[]
      case 8: o = 1231; break;   // numeric[]
      case 9: o = 2951; break;   // uuid[]
      default: return 0;         // text-like: let the server infer from the column
    }
    if (elem != 0 && elem != o) return 0;
    elem = o;
  }
  return elem;
}

}  // namespace

Oid append_text(std::string& out, const Value& v, bool wide_ints) {
  return std::visit(
      [&](const auto& x) -> Oid {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Null>) {
          return 0;
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? 't' : 'f';
          return pg_oid::boolean;
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          // The narrowest type that holds the value: int4 arguments resolve functions declared
          // with integer parameters (pg_terminate_backend), and int4 compares with bigint columns.
          append_int(out, x);
          return !wide_ints && x >= INT32_MIN && x <= INT32_MAX ? pg_oid::int4 : pg_oid::int8;
        } else if constexpr (std::is_same_v<T, double>) {
          append_double(out, x);
          return pg_oid::float8;
        } else if constexpr (std::is_same_v<T, std::string>) {
          check_text(x);
          out += x;
          return 0;
        } else if constexpr (std::is_same_v<T, Bytes>) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\x";
          for (std::byte b : x) {
            out += hex[std::to_integer<unsigned>(b) >> 4];
            out += hex[std::to_integer<unsigned>(b) & 15];
          }
          return pg_oid::bytea;
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          append_timestamp(out, x);
          return pg_oid::timestamptz;
        } else if constexpr (std::is_same_v<T, Date>) {
          append_date(out, x);
          return pg_oid::date;
        } else if constexpr (std::is_same_v<T, Decimal>) {
          out += x.str();
          return pg_oid::numeric;
        } else if constexpr (std::is_same_v<T, Uuid>) {
          out += x.str();
          return pg_oid::uuid;
        } else if constexpr (std::is_same_v<T, Json>) {
          check_text(x.text);
          out += x.text;
          return 0;  // unknown: the server coerces to json or jsonb as the column needs
        } else if constexpr (std::is_same_v<T, Array>) {
          out += '{';
          bool first = true;
          for (const Value& item : x.items) {
            if (!first) out += ',';
            first = false;
            append_array_element(out, item);
          }
          out += '}';
          return array_oid(x);
        }
      },
      v.storage());
}

void ParamBuffer::encode(std::span<const Value> params, bool wide_ints) {
  const std::size_t n = params.size();
  // The wire protocol counts parameters in 16 bits; libpq would send a count that wrapped and
  // the server would hang up, which looks like a lost connection. Refuse before anything is sent.
  if (n > max_params)
    throw DataError(fmt::format("a statement can bind at most {} values on PostgreSQL, and this one binds {}; "
                                "split it into several statements in the same transaction (e.g. insert the rows "
                                "in chunks: Session's flush does this by itself)",
                                max_params, n));
  types_.resize(n);
  values_.resize(n);
  lengths_.assign(n, 0);
  formats_.assign(n, 0);
  offsets_.resize(n);
  arena_.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const Value& v = params[i];
    if (v.is_null()) {
      types_[i] = 0;
      offsets_[i] = borrowed;
      values_[i] = nullptr;
      continue;
    }
    if (const auto* s = std::get_if<std::string>(&v.storage())) {
      // Strings are sent straight from the caller's Value: no copy.
      check_text(*s);
      types_[i] = 0;
      offsets_[i] = borrowed;
      values_[i] = s->c_str();
      continue;
    }
    if (const auto* b = std::get_if<Bytes>(&v.storage())) {
      types_[i] = pg_oid::bytea;
      offsets_[i] = borrowed;
      values_[i] = reinterpret_cast<const char*>(b->data());
      lengths_[i] = static_cast<int>(b->size());
      formats_[i] = 1;  // binary: bytes as they are, NULs included
      continue;
    }
    offsets_[i] = arena_.size();
    types_[i] = append_text(arena_, v, wide_ints);
    arena_ += '\0';
  }
  // Pointers into the arena are taken only now, after it stopped growing.
  for (std::size_t i = 0; i < n; ++i)
    if (offsets_[i] != borrowed) values_[i] = arena_.data() + offsets_[i];
  // An empty Bytes still needs a non-null pointer, or libpq would send NULL.
  static const char empty = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (formats_[i] == 1 && values_[i] == nullptr) values_[i] = &empty;
}

}  // namespace corm::driver::postgres
