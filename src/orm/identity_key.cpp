#include "corm/orm/identity_key.hpp"

#include <charconv>
#include <type_traits>
#include <variant>

namespace corm::orm {

std::string encode_key(const Value& v) {
  // Integer keys are nearly all keys: written straight into one short string.
  if (const auto* i = std::get_if<std::int64_t>(&v.storage())) {
    char buf[24];
    buf[0] = 'i';
    auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf, *i);
    (void)ec;  // 23 characters hold every int64
    return std::string(buf, end);
  }
  return std::visit(
      [](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, Null>) return "n";
        else if constexpr (std::is_same_v<X, bool>) return x ? "b1" : "b0";
        else if constexpr (std::is_same_v<X, std::int64_t>) return "i" + std::to_string(x);
        else if constexpr (std::is_same_v<X, double>) return "d" + std::to_string(x);
        else if constexpr (std::is_same_v<X, std::string>) return "s" + x;
        else if constexpr (std::is_same_v<X, Bytes>) return "x" + std::string(reinterpret_cast<const char*>(x.data()), x.size());
        else if constexpr (std::is_same_v<X, Timestamp>) return "t" + std::to_string(x.time_since_epoch().count());
        else if constexpr (std::is_same_v<X, Date>) return "D" + std::to_string(x.time_since_epoch().count());
        else if constexpr (std::is_same_v<X, Decimal>) return "m" + x.str();
        else if constexpr (std::is_same_v<X, Uuid>) return "u" + x.str();
        else if constexpr (std::is_same_v<X, Json>) return "j" + x.text;
        else return "a";  // arrays are never keys
      },
      v.storage());
}

std::string encode_key(std::span<const Value> values) {
  if (values.size() == 1) return encode_key(values[0]);
  std::string out;
  for (const Value& v : values) {
    std::string part = encode_key(v);
    out += std::to_string(part.size());
    out += ':';
    out += part;
  }
  return out;
}

bool has_null(std::span<const Value> values) {
  for (const Value& v : values)
    if (v.is_null()) return true;
  return false;
}

}  // namespace corm::orm
