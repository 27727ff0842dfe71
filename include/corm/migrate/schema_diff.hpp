#pragma once
// What differs between two schemas, as a list of named changes: the mapped models against the
// live database for `check` and autogenerate, or two introspection snapshots in tests. Columns
// are matched by name (their order is not a difference), indexes by their whole definition,
// unique constraints and foreign keys by their columns (SQLite keeps no constraint names).

#include <string>
#include <vector>

#include "corm/sql/schema/table_schema.hpp"

namespace corm::migrate {

/// One kind of difference. "add"/"drop" are from the point of view of turning `from` into `to`.
enum class ChangeKind {
  add_table, drop_table,
  add_column, drop_column,
  alter_column_type, alter_column_nullable, alter_column_default, alter_column_identity,
  alter_primary_key,
  add_index, drop_index,
  add_unique, drop_unique,
  add_foreign_key, drop_foreign_key,
};

/// "add_table", "alter_column_type", ...
std::string_view change_kind_name(ChangeKind k) noexcept;

/// One difference. `name` is the column, index or constraint concerned (empty for tables and
/// primary keys); `detail` says what changes ("int32 -> int64", "(author_id, title)").
struct SchemaChange {
  /// What kind of change.
  ChangeKind kind;
  /// The table concerned.
  std::string table;
  /// The column, index or constraint concerned; empty for table and primary-key changes.
  std::string name;
  std::string detail;
  /// One line for people: "add column books.isbn (text(13) null)".
  std::string describe() const;
  /// Field-by-field equality.
  friend bool operator==(const SchemaChange&, const SchemaChange&) = default;
};

/// The changes that turn schema `from` into schema `to`: tables, then per table (by name)
/// columns, primary key, indexes, uniques, foreign keys. Empty when they match.
std::vector<SchemaChange> diff_schemas(const std::vector<TableSchema>& from, const std::vector<TableSchema>& to);

/// The same, for one table present on both sides.
std::vector<SchemaChange> diff_tables(const TableSchema& from, const TableSchema& to);

/// A one-line description of a column's definition ("int64 not null default 0").
std::string describe_column(const ColumnSchema& c);

}  // namespace corm::migrate
