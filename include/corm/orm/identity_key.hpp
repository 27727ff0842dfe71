#pragma once
// IdentityKey: (table, primary key) — the key of the identity map. The key values are encoded
// into one canonical string so int32 and int64 keys of the same number compare equal and the
// map can hash it cheaply.

#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "corm/core/value.hpp"

namespace corm {
class TableInfo;
}

namespace corm::orm {

/// One row's identity: its table and its encoded primary-key values.
struct IdentityKey {
  const TableInfo* table = nullptr;
  std::string values;
  friend bool operator==(const IdentityKey&, const IdentityKey&) = default;
};

/// The canonical encoding of key values (also used to group rows by a foreign-key value).
std::string encode_key(std::span<const Value> values);
/// encode_key of one value.
std::string encode_key(const Value& v);
/// True when any of the values is NULL (such a key identifies nothing).
bool has_null(std::span<const Value> values);

struct IdentityKeyHash {
  std::size_t operator()(const IdentityKey& k) const noexcept {
    return std::hash<std::string>{}(k.values) ^ (std::hash<const void*>{}(k.table) << 1);
  }
};

}  // namespace corm::orm
