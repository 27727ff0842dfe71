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

constexpr std::int64_t pow10_table[] = {1,
                                        10,
                                        100,
                                        1000,
                                        10000,
                                        100000,
                                        1000000,
                                        10000000,
                                        100000000,
                                        1000000000,
                                        10000000000,
                                        100000000000,
                                        1000000000000,
                                        10000000000000,
                                        100000000000000,
                                        1000000000000000,
                                        10000000000000000,
                                        100000000000000000,
                                        1000000000000000000};

// 10^n, or nullopt when it does not fit in 64 bits.
std::optional<std::int64_t> pow10(int n) noexcept {
  if (n < 0 || n >= static_cast<int>(std::size(pow10_table))) return std::nullopt;
  return pow10_table[n];
}

void require_digits(int digits, const char* what) {
  if (digits < 0)
    throw UsageError(std::string(what) + ": digits after the point must be 0 or more, not " + std::to_string(digits));
}

}  // namespace

Decimal::Decimal(std::string_view text) {
  if (auto special = special_decimal(text)) {
    text_ = std::make_shared<const std::string>(std::move(*special));
    return;
  }
  std::string_view t = text;
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < t.size() && is_digit(t[i])) ++i, ++int_digits;
  const bool point = i < t.size() && t[i] == '.';
  if (point) {
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
  const bool negative = t[0] == '-';
  const std::string_view digits = negative ? t.substr(1) : t;
  // Held as an integer only when str() can spell the text back exactly: no leading zeros (a
  // single "0" before the point aside), no bare point ("5.", ".5"), no negative zero.
  const bool plain = int_digits > 0 && (!point || frac_digits > 0) && (int_digits == 1 || digits[0] != '0');
  std::uint64_t magnitude = 0;
  bool fits = plain;
  for (std::size_t k = 0; fits && k < digits.size(); ++k) {
    if (digits[k] == '.') continue;
    fits = !__builtin_mul_overflow(magnitude, 10u, &magnitude) &&
           !__builtin_add_overflow(magnitude, static_cast<unsigned>(digits[k] - '0'), &magnitude);
  }
  if (fits && magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) &&
      !(negative && magnitude == 0)) {
    units_ = negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
    digits_ = static_cast<std::int32_t>(frac_digits);
    return;
  }
  text_ = std::make_shared<const std::string>(t);
}

Decimal Decimal::from_scaled(std::int64_t units, int digits) {
  require_digits(digits, "Decimal::from_scaled");
  return Decimal(units, digits);
}

Decimal detail::decimal_from_canonical(std::string text) {
  Decimal d;
  d.text_ = std::make_shared<const std::string>(std::move(text));
  return d;
}

std::string Decimal::str() const {
  if (text_) return *text_;
  char buf[24];
  const bool negative = units_ < 0;
  // The magnitude of INT64_MIN does not fit in int64; it does in uint64.
  const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(units_) : static_cast<std::uint64_t>(units_);
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, magnitude);
  (void)ec;
  const std::size_t n = static_cast<std::size_t>(end - buf);
  const std::size_t frac = static_cast<std::size_t>(digits_);
  std::string out;
  if (frac == 0) {
    out.reserve(n + 1);
    if (negative) out += '-';
    out.append(buf, n);
    return out;
  }
  // The integer part is at least "0"; the fraction is padded on the left to `frac` digits.
  const std::size_t int_len = n > frac ? n - frac : 1;
  out.reserve(negative + int_len + 1 + frac);
  if (negative) out += '-';
  if (n > frac) {
    out.append(buf, int_len);
    out += '.';
    out.append(buf + int_len, frac);
  } else {
    out += "0.";
    out.append(frac - n, '0');
    out.append(buf, n);
  }
  return out;
}

std::optional<std::int64_t> Decimal::scaled(int digits) const {
  require_digits(digits, "Decimal::scaled");
  if (!text_) {
    if (digits >= digits_) {
      auto p = pow10(digits - digits_);
      std::int64_t out = 0;
      if (!p || __builtin_mul_overflow(units_, *p, &out)) {
        if (units_ == 0) return 0;
        return std::nullopt;
      }
      return out;
    }
    auto p = pow10(digits_ - digits);
    if (!p) return units_ == 0 ? std::optional<std::int64_t>(0) : std::nullopt;
    if (units_ % *p != 0) return std::nullopt;
    return units_ / *p;
  }
  const std::string& t = *text_;
  if (t == "NaN" || t == "Infinity" || t == "-Infinity") return std::nullopt;
  const Normalized n = normalize(t);
  if (n.frac_digits.size() > static_cast<std::size_t>(digits)) return std::nullopt;
  // The magnitude is accumulated negated: INT64_MIN's magnitude fits only on the negative side.
  std::int64_t acc = 0;
  auto push = [&acc](int d) { return !__builtin_mul_overflow(acc, 10, &acc) && !__builtin_sub_overflow(acc, d, &acc); };
  for (char c : n.int_digits)
    if (!push(c - '0')) return std::nullopt;
  for (char c : n.frac_digits)
    if (!push(c - '0')) return std::nullopt;
  for (std::size_t k = n.frac_digits.size(); k < static_cast<std::size_t>(digits); ++k) {
    if (acc == 0) break;  // zero stays zero however far it is scaled
    if (!push(0)) return std::nullopt;
  }
  if (n.negative) return acc;
  if (acc == std::numeric_limits<std::int64_t>::min()) return std::nullopt;
  return -acc;
}

double Decimal::to_double() const {
  if (!text_) {
    // Both operands exact in a double, so the one division rounds correctly.
    constexpr std::int64_t exact = std::int64_t{1} << 53;
    if (units_ > -exact && units_ < exact && digits_ <= 22) {
      static constexpr double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
      return static_cast<double>(units_) / p10[digits_];
    }
  } else {
    const std::string& t = *text_;
    if (t == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (t == "Infinity") return std::numeric_limits<double>::infinity();
    if (t == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  const std::string text = str();
  double out = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  (void)p;
  if (ec == std::errc::result_out_of_range) {
    // Only reachable for absurdly long digit strings; saturate like strtod would.
    return text[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  return out;
}

bool operator==(const Decimal& a, const Decimal& b) {
  if (!a.text_ && !b.text_) {
    // Trailing zeros of the fraction stripped, a number has one (units, digits) spelling.
    auto strip = [](std::int64_t u, std::int32_t d) {
      if (u == 0) return std::pair<std::int64_t, std::int32_t>{0, 0};
      while (d > 0 && u % 10 == 0) u /= 10, --d;
      return std::pair{u, d};
    };
    return strip(a.units_, a.digits_) == strip(b.units_, b.digits_);
  }
  const std::string x_text = a.str(), y_text = b.str();
  auto special = [](const std::string& s) { return s == "NaN" || s == "Infinity" || s == "-Infinity"; };
  // NaN equals NaN here (as in PostgreSQL's numeric, which sorts NaN as one value).
  if (special(x_text) || special(y_text)) return x_text == y_text;
  auto x = normalize(x_text), y = normalize(y_text);
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
