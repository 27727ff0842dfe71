#pragma once
// Moving data between model objects and rows/parameters, for statements and for the session:
// from_row builds a T from the columns a SELECT returned; column_values / primary_key_values
// read an object's members as bind parameters (INSERT, UPDATE, dirty checking, identity keys).

#include <cstddef>
#include <span>
#include <vector>

#include "corm/core/error.hpp"
#include "corm/sql/schema/table_info.hpp"

namespace corm {

namespace detail {
/// Decodes cells `first`.. of `row` into every mapped member of `*obj` (declaration order, the
/// layout `select<T>()` produces): one virtual call per row reads the cells, one call per column
/// decodes. A DataError names the mapped column, as set_from_row's does.
void hydrate(const TableInfo& info, void* obj, const Row& row, std::size_t first);
/// Marks every relationship holder of `*obj` unloaded: a row says nothing about related rows
/// (a new holder starts loaded and empty, as a new object's should).
inline void unload_relationships(const TableInfo& info, void* obj) {
  for (const RelationshipInfo& r : info.relationships) r.unload(obj);
}
}  // namespace detail

/// Builds a T from `row`, reading T's mapped columns in declaration order starting at cell
/// `first` (the layout `select<T>()` produces). Relationship holders stay unloaded.
template <Mapped T>
T from_row(const Row& row, std::size_t first = 0) {
  static_assert(std::is_default_constructible_v<T>, "corm: mapped models must be default-constructible");
  const TableInfo& info = table_info<T>();
  T obj{};
  detail::hydrate(info, &obj, row, first);
  detail::unload_relationships(info, &obj);
  return obj;
}

/// Builds a T from `row` where cell `first + i` holds the column with ordinal `ordinals[i]`
/// (any order, any subset; columns not listed keep their default-initialised values).
template <Mapped T>
T from_row(const Row& row, std::span<const std::size_t> ordinals, std::size_t first = 0) {
  const TableInfo& info = table_info<T>();
  T obj{};
  for (std::size_t i = 0; i < ordinals.size(); ++i)
    info.columns.at(ordinals[i]).set_from_row(&obj, row, first + i);
  detail::unload_relationships(info, &obj);
  return obj;
}

/// Overwrites `obj`'s mapped members from `row` (declaration order from `first`): refresh, or
/// reading back the values RETURNING produced.
template <Mapped T>
void assign_from_row(T& obj, const Row& row, std::span<const std::size_t> ordinals, std::size_t first = 0) {
  const TableInfo& info = table_info<T>();
  for (std::size_t i = 0; i < ordinals.size(); ++i)
    info.columns.at(ordinals[i]).set_from_row(&obj, row, first + i);
}

/// Every mapped column's value of `obj`, in declaration order (the session's snapshot for dirty
/// checking is exactly this vector).
template <Mapped T>
std::vector<Value> column_values(const T& obj) {
  const TableInfo& info = table_info<T>();
  std::vector<Value> out;
  out.reserve(info.columns.size());
  for (const ColumnInfo& c : info.columns) out.push_back(c.get(&obj));
  return out;
}

/// One column's value of `obj` (ordinal as in TableInfo::columns).
template <Mapped T>
Value column_value(const T& obj, std::size_t ordinal) {
  return table_info<T>().columns.at(ordinal).get(&obj);
}

/// The primary-key values of `obj`, in key order (the identity-map key with the type).
template <Mapped T>
std::vector<Value> primary_key_values(const T& obj) {
  const TableInfo& info = table_info<T>();
  if (info.primary_key.empty())
    throw ConfigError("table '" + info.name + "' has no primary key; mark a column with corm::primary_key");
  std::vector<Value> out;
  out.reserve(info.primary_key.size());
  for (std::size_t i : info.primary_key) out.push_back(info.columns[i].get(&obj));
  return out;
}

}  // namespace corm
