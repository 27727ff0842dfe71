#pragma once
// IdentityKey: (table, primary key) — the key of the identity map. The key values are encoded
// into one canonical string so int32 and int64 keys of the same number compare equal.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "corm/core/value.hpp"

namespace corm {
class TableInfo;
}

namespace corm::orm {

/// One row's identity: its table and its primary-key values, with their hash computed once
/// here. The identity set probes a key on every load of every row and hashes each state it
/// moves, so a key never hashes twice (11,000 keys to load 1,000 authors with their books). A single integer key (nearly
/// every table's) is held as the integer; any other key as its values encoded into one
/// canonical string (encode_key), so int32 and int64 keys of the same number compare equal.
class IdentityKey {
 public:
  IdentityKey() = default;
  /// Takes the encoded values (encode_key()) and hashes them.
  IdentityKey(const TableInfo* table, std::string&& values) noexcept
      : table_(table), values_(std::move(values)), hash_(hash_of(table_, values_)) {}
  /// A single integer key: no string is built.
  IdentityKey(const TableInfo* table, std::int64_t value) noexcept
      : table_(table), int_(value), is_int_(true), hash_(hash_of(table_, value)) {}
  /// The key of `values` (a table's primary-key values, in key order).
  static IdentityKey of(const TableInfo* table, std::span<const Value> values);
  /// The key of a single-column primary key's value.
  static IdentityKey of(const TableInfo* table, const Value& value);

  /// The mapped table the key belongs to.
  const TableInfo* table() const noexcept { return table_; }
  /// The key's hash (well mixed in every bit: the identity set uses it as it is).
  std::size_t hash() const noexcept { return hash_; }
  friend bool operator==(const IdentityKey& a, const IdentityKey& b) noexcept {
    return a.hash_ == b.hash_ && a.table_ == b.table_ && a.is_int_ == b.is_int_ && a.int_ == b.int_ &&
           a.values_ == b.values_;
  }

 private:
  static std::size_t hash_of(const TableInfo* table, std::string_view v) noexcept;
  static std::size_t hash_of(const TableInfo* table, std::int64_t v) noexcept;

  const TableInfo* table_ = nullptr;
  std::int64_t int_ = 0;
  bool is_int_ = false;
  std::string values_;  // empty for an integer key
  std::size_t hash_ = 0;
};

/// The canonical encoding of key values (also used to group rows by a foreign-key value).
std::string encode_key(std::span<const Value> values);
/// encode_key of one value.
std::string encode_key(const Value& v);
/// True when any of the values is NULL (such a key identifies nothing).
bool has_null(std::span<const Value> values);

/// Hash of an IdentityKey: the one it carries.
struct IdentityKeyHash {
  std::size_t operator()(const IdentityKey& k) const noexcept { return k.hash(); }
};

}  // namespace corm::orm
