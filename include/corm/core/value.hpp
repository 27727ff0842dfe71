#pragma once
// The values corm binds as parameters and the small vocabulary types it maps columns to.
// A Value is what crosses from user code to a driver; nothing in it is ever spliced into SQL.

#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace corm {

/// Raw bytes (PostgreSQL bytea, SQLite BLOB).
using Bytes = std::vector<std::byte>;

/// A point in time with microsecond precision, stored as UTC (timestamptz on PostgreSQL,
/// ISO-8601 text on SQLite).
using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

/// A calendar date (PostgreSQL date, 'YYYY-MM-DD' text on SQLite).
using Date = std::chrono::sys_days;

class Decimal;
namespace detail {
/// A Decimal of text a driver produced in canonical form (PostgreSQL's binary numeric), taken
/// without the parse the public constructor does.
Decimal decimal_from_canonical(std::string text);
}  // namespace detail

/// An exact decimal number: no digit is ever lost to a binary float, and str() gives back the
/// text it was made from ("-12.3400" stays "-12.3400"). Construct from text; a malformed number
/// throws DataError. A number whose digits fit in 64 bits (every price, amount and quantity in
/// practice) is held as an integer and a scale, so reading one from a result allocates nothing
/// and `scaled()` is integer arithmetic; wider ones and NaN / ±Infinity are held as text.
class Decimal {
 public:
  /// Zero ("0").
  Decimal() noexcept = default;
  /// Parses `text` ("12.50", "-3", ".5"; "1e3" is rejected); throws DataError when it is not a
  /// number. PostgreSQL's numeric specials NaN, Infinity and -Infinity are accepted (any case) so
  /// every value a numeric column can hold reads back.
  explicit Decimal(std::string_view text);
  /// `units` × 10^-`digits`: `from_scaled(1250, 2)` is "12.50". Throws UsageError when `digits`
  /// is negative.
  static Decimal from_scaled(std::int64_t units, int digits);
  /// The number as text, exactly as it was made (a leading '+' dropped).
  std::string str() const;
  /// The number × 10^`digits` as an exact integer — `price.scaled(2)` is the price in cents — or
  /// nullopt when that is not a whole number, does not fit in 64 bits, or the value is NaN or
  /// infinite. Throws UsageError when `digits` is negative.
  std::optional<std::int64_t> scaled(int digits) const;
  /// Nearest double (lossy; for display and arithmetic that tolerates rounding).
  double to_double() const;
  /// Numeric equality: "1.50" == "1.5", "-0" == "0"; NaN equals NaN (as PostgreSQL sorts it).
  friend bool operator==(const Decimal& a, const Decimal& b);

 private:
  friend Decimal detail::decimal_from_canonical(std::string text);
  Decimal(std::int64_t units, std::int32_t digits) noexcept : units_(units), digits_(digits) {}

  // The value is units_ × 10^-digits_ unless text_ is set; text_ is shared because a Decimal
  // never changes after it is made, so copies need not allocate.
  std::int64_t units_ = 0;
  std::int32_t digits_ = 0;
  std::shared_ptr<const std::string> text_;
};

/// A 128-bit UUID. Parses the canonical 36-character form (hyphens optional, any case).
class Uuid {
 public:
  /// The nil UUID (all 16 bytes zero).
  Uuid() = default;
  /// Throws DataError when `text` is not a UUID.
  explicit Uuid(std::string_view text);
  /// The UUID with these 16 bytes, in the order they are written in the text form.
  explicit Uuid(const std::array<std::uint8_t, 16>& bytes) : bytes_(bytes) {}
  /// Canonical lower-case 36-character form.
  std::string str() const;
  /// The 16 bytes, in the order they are written in the text form.
  const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }
  /// Compares byte by byte (the order of the canonical text forms).
  friend auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

/// JSON document text (PostgreSQL json/jsonb, SQLite TEXT). corm stores it verbatim.
struct Json {
  /// The JSON text, exactly as bound or read.
  std::string text;
  /// True when the texts are identical (no JSON normalisation: `{"a":1}` != `{ "a": 1 }`).
  friend bool operator==(const Json&, const Json&) = default;
};

class Value;

/// A list bound as one parameter (PostgreSQL arrays: `col = ANY($1)`).
struct Array {
  /// The elements, in order.
  std::vector<Value> items;
};

/// The SQL NULL.
struct Null {
  /// Always true: in C++ one Null equals another (unlike SQL's NULL = NULL).
  friend bool operator==(Null, Null) noexcept { return true; }
};

/// One bound parameter value. Integers of every width travel as int64; the driver and the
/// server convert to the column's type and report overflow as DataError.
class Value {
 public:
  /// What a Value holds: one alternative per kind of bound value.
  using Storage = std::variant<Null, bool, std::int64_t, double, std::string, Bytes, Timestamp, Date,
                               Decimal, Uuid, Json, Array>;

  /// A NULL (the default), or a value of one of the types corm binds.
  ///@{
  Value() = default;
  Value(Null) {}
  Value(std::nullptr_t) {}
  Value(bool v) : v_(v) {}
  Value(std::int16_t v) : v_(std::int64_t{v}) {}
  Value(std::int32_t v) : v_(std::int64_t{v}) {}
  Value(std::int64_t v) : v_(v) {}
  Value(long long v) : v_(static_cast<std::int64_t>(v)) {}
  Value(float v) : v_(double{v}) {}
  Value(double v) : v_(v) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(Bytes v) : v_(std::move(v)) {}
  Value(Timestamp v) : v_(v) {}
  Value(Date v) : v_(v) {}
  Value(Decimal v) : v_(std::move(v)) {}
  Value(Uuid v) : v_(v) {}
  Value(Json v) : v_(std::move(v)) {}
  Value(Array v) : v_(std::move(v)) {}
  ///@}

  /// True for SQL NULL.
  bool is_null() const noexcept { return std::holds_alternative<Null>(v_); }
  /// The stored alternative.
  const Storage& storage() const noexcept { return v_; }
  /// Short type name for messages ("int64", "text", "NULL").
  std::string_view type_name() const noexcept;

  /// True when both hold the same alternative with equal values: `Value(1) != Value(1.0)`,
  /// two NULLs are equal, Decimals compare numerically.
  friend bool operator==(const Value& a, const Value& b);

 private:
  Storage v_;
};

}  // namespace corm
