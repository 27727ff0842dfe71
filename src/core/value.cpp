#include "corm/core/value.hpp"

#include <charconv>
#include <limits>
#include <optional>
#include <cstdio>
#include <string>

#include "corm/core/error.hpp"
#include "core/excerpt.hpp"

namespace corm {

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// PostgreSQL's numeric can hold NaN and ±Infinity (the latter since PG 14); a Decimal read from
// such a column must not fail, so these are accepted in any case and stored in PG's spelling.
std::optional<std::string> special_decimal(std::string_view t) {
  if (iequals(t, "nan")) return std::string("NaN");
  if (iequals(t, "infinity") || iequals(t, "+infinity") || iequals(t, "inf") || iequals(t, "+inf"))
    return std::string("Infinity");
  if (iequals(t, "-infinity") || iequals(t, "-inf")) return std::string("-Infinity");
  return std::nullopt;
}

// Splits a validated finite decimal into sign, significant integer digits and fraction digits
// without leading/trailing zeros, so equal numbers compare equal whatever their scale.
struct Normalized {
  bool negative;
  std::string_view int_digits;
  std::string_view frac_digits;
};

Normalized normalize(std::string_view t) noexcept {
  bool neg = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  auto dot = t.find('.');
  std::string_view ip = t.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view{} : t.substr(dot + 1);
  while (!ip.empty() && ip.front() == '0') ip.remove_prefix(1);
  while (!fp.empty() && fp.back() == '0') fp.remove_suffix(1);
  if (ip.empty() && fp.empty()) neg = false;  // -0.00 == 0
  return {neg, ip, fp};
}

}  // namespace

Decimal::Decimal(std::string_view text) {
  if (auto special = special_decimal(text)) {
    text_ = std::move(*special);
    return;
  }
  std::string_view t = text;
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < t.size() && is_digit(t[i])) ++i, ++int_digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && is_digit(t[i])) ++i, ++frac_digits;
  }
  if (i != t.size() || int_digits + frac_digits == 0) {
    std::string why = t.empty() ? "it is empty" : "expected digits with an optional sign and decimal point";
    if (t.find_first_of("eE") != std::string_view::npos && int_digits + frac_digits > 0)
      why = "exponent notation is not accepted; write the number in full";
    throw DataError("not a decimal number: " + detail::quote_excerpt(text) + " (" + why + ")");
  }
  // A leading '+' carries no information; dropping it keeps str() canonical for binding.
  if (t[0] == '+') t.remove_prefix(1);
  text_.assign(t);
}

double Decimal::to_double() const {
  if (text_ == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text_ == "Infinity") return std::numeric_limits<double>::infinity();
  if (text_ == "-Infinity") return -std::numeric_limits<double>::infinity();
  double out = 0;
  auto [p, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), out);
  (void)p;
  if (ec == std::errc::result_out_of_range) {
    // Only reachable for absurdly long digit strings; saturate like strtod would.
    return text_[0] == '-' ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
  }
  return out;
}

bool operator==(const Decimal& a, const Decimal& b) noexcept {
  auto special = [](const std::string& s) { return s == "NaN" || s == "Infinity" || s == "-Infinity"; };
  // NaN equals NaN here (as in PostgreSQL's numeric, which sorts NaN as one value).
  if (special(a.text_) || special(b.text_)) return a.text_ == b.text_;
  auto x = normalize(a.text_), y = normalize(b.text_);
  return x.negative == y.negative && x.int_digits == y.int_digits && x.frac_digits == y.frac_digits;
}

Uuid::Uuid(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const bool hyphenated = text.size() == 36;
  if (!hyphenated && text.size() != 32)
    throw DataError("not a UUID: " + detail::quote_excerpt(text) +
                    " (expected 36 characters like 123e4567-e89b-12d3-a456-426614174000, or 32 hex digits)");
  std::size_t pos = 0;
  for (std::size_t b = 0; b < 16; ++b) {
    if (hyphenated && (pos == 8 || pos == 13 || pos == 18 || pos == 23)) {
      if (text[pos] != '-')
        throw DataError("not a UUID: " + detail::quote_excerpt(text) + " (expected '-' at position " +
                        std::to_string(pos + 1) + ")");
      ++pos;
    }
    int hi = hex(text[pos]), lo = hex(text[pos + 1]);
    if (hi < 0 || lo < 0)
      throw DataError("not a UUID: " + detail::quote_excerpt(text) + " (non-hex character)");
    bytes_[b] = static_cast<std::uint8_t>(hi * 16 + lo);
    pos += 2;
  }
}

std::string Uuid::str() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t b = 0; b < 16; ++b) {
    if (b == 4 || b == 6 || b == 8 || b == 10) out.push_back('-');
    out.push_back(digits[bytes_[b] >> 4]);
    out.push_back(digits[bytes_[b] & 0xF]);
  }
  return out;
}

std::string_view Value::type_name() const noexcept {
  static constexpr std::string_view names[] = {"NULL", "bool",    "int64",   "double", "text", "bytes",
                                               "timestamp", "date", "decimal", "uuid", "json", "array"};
  static_assert(std::size(names) == std::variant_size_v<Storage>);
  return names[v_.index()];
}

bool operator==(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return false;
  return std::visit(
      [&](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        const auto& y = std::get<T>(b.v_);
        if constexpr (std::is_same_v<T, Array>) {
          if (x.items.size() != y.items.size()) return false;
          for (std::size_t i = 0; i < x.items.size(); ++i)
            if (!(x.items[i] == y.items[i])) return false;
          return true;
        } else {
          return x == y;
        }
      },
      a.v_);
}

}  // namespace corm
