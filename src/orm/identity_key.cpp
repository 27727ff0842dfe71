#include "corm/orm/detail/identity_key.hpp"

#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>
#include <variant>

namespace corm::orm {

namespace {

std::uint64_t load_bytes(const char* p, std::size_t n) noexcept {  // n <= 8
  std::uint64_t v = 0;
  std::memcpy(&v, p, n);
  return v;
}

// MurmurHash3's 64-bit finalizer: every input bit reaches every output bit.
std::uint64_t fmix64(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

// Keys are short ("i4711": an integer key is its tag and digits): up to 16 bytes are read as two
// words and mixed, about twenty instructions where std::hash<std::string> (plus boost's
// post-mixing of a hash it cannot trust) cost about 130 per key. Longer keys (text, UUID and
// composite keys) use std::hash, mixed the same way with the table.
std::size_t IdentityKey::hash_of(const TableInfo* table, std::string_view v) noexcept {
  std::uint64_t h = reinterpret_cast<std::uintptr_t>(table) * 0x9e3779b97f4a7c15ULL ^ v.size();
  if (v.size() <= 16) {
    const std::size_t lo = v.size() < 8 ? v.size() : 8;
    h ^= load_bytes(v.data(), lo) * 0x87c37b91114253d5ULL;
    if (v.size() > 8) h ^= std::rotl(load_bytes(v.data() + 8, v.size() - 8) * 0x4cf5ad432745937fULL, 31);
  } else {
    h ^= std::hash<std::string_view>{}(v);
  }
  return static_cast<std::size_t>(fmix64(h));
}

std::size_t IdentityKey::hash_of(const TableInfo* table, std::int64_t v) noexcept {
  // Distinct from every encoded key's hash only by chance, which is all a hash needs: equality
  // compares the kind of key too.
  const std::uint64_t h = reinterpret_cast<std::uintptr_t>(table) * 0x9e3779b97f4a7c15ULL ^
                          static_cast<std::uint64_t>(v) * 0x87c37b91114253d5ULL;
  return static_cast<std::size_t>(fmix64(h));
}

IdentityKey IdentityKey::of(const TableInfo* table, const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value.storage())) return IdentityKey(table, *i);
  return IdentityKey(table, encode_key(value));
}

IdentityKey IdentityKey::of(const TableInfo* table, std::span<const Value> values) {
  if (values.size() == 1) return of(table, values[0]);
  return IdentityKey(table, encode_key(values));
}

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
