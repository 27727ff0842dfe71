#pragma once
// TableSchema: a table's structure as plain data. The same type describes what a mapping
// declares (`TableInfo::schema(dialect)`, `MetaData::schema`) and what a database reports
// (`corm::inspect`), so the migration tool diffs them with ==.

#include <optional>
#include <string>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/sql/schema/column_options.hpp"
#include "corm/sql/schema/column_type.hpp"

namespace corm {

/// One column. `max_length` > 0 means VARCHAR(n); `precision` > 0 means NUMERIC(p, s).
struct ColumnSchema {
  /// Column name.
  std::string name;
  /// Portable storage type.
  ColumnType type = ColumnType::text;
  /// n of VARCHAR(n); 0 for TEXT or a non-text column.
  int max_length = 0;
  /// Precision of NUMERIC(p, s); 0 for a plain NUMERIC or another type.
  int precision = 0;
  /// Scale of NUMERIC(p, s); 0 otherwise.
  int scale = 0;
  /// True when the column accepts NULL.
  bool nullable = true;
  /// True for a database-generated key (identity / autoincrement).
  bool identity = false;
  /// DEFAULT text as the database keeps it (PostgreSQL's trailing type casts removed).
  std::optional<std::string> server_default;
  /// Field-by-field equality.
  friend bool operator==(const ColumnSchema&, const ColumnSchema&) = default;
};

/// A plain index (not one that backs a primary key or unique constraint).
struct IndexSchema {
  /// Index name.
  std::string name;
  /// Key columns, in key order.
  std::vector<std::string> columns;
  std::vector<std::string> include;  ///< INCLUDE columns (PostgreSQL only).
  /// True for a UNIQUE index.
  bool unique = false;
  /// Field-by-field equality, name included.
  friend bool operator==(const IndexSchema&, const IndexSchema&) = default;
};

/// A UNIQUE constraint. Compared without its name: SQLite does not keep constraint names.
struct UniqueSchema {
  /// Constraint name.
  std::string name;
  /// Constrained columns, in declaration order.
  std::vector<std::string> columns;
  /// Equal when the columns are (names are not compared).
  friend bool operator==(const UniqueSchema& a, const UniqueSchema& b) { return a.columns == b.columns; }
};

/// A foreign key. Compared without its name: SQLite does not keep constraint names.
struct ForeignKeySchema {
  /// Constraint name.
  std::string name;
  /// Referring columns on this table.
  std::vector<std::string> columns;
  /// The table referred to.
  std::string referred_table;
  /// The columns referred to, matching `columns` one for one.
  std::vector<std::string> referred_columns;
  /// ON DELETE action.
  FkAction on_delete = FkAction::no_action;
  /// ON UPDATE action.
  FkAction on_update = FkAction::no_action;
  /// Equal when everything but the name is.
  friend bool operator==(const ForeignKeySchema& a, const ForeignKeySchema& b) {
    return a.columns == b.columns && a.referred_table == b.referred_table &&
           a.referred_columns == b.referred_columns && a.on_delete == b.on_delete &&
           a.on_update == b.on_update;
  }
};

/// A CHECK constraint. Introspection reports checks on PostgreSQL only (with the server's
/// normalised text); SQLite keeps none in its catalog, so TableSchema's == ignores checks.
struct CheckSchema {
  /// Constraint name.
  std::string name;
  /// The boolean SQL expression inside CHECK (...).
  std::string sql;
  /// Field-by-field equality, name included.
  friend bool operator==(const CheckSchema&, const CheckSchema&) = default;
};

/// One table. Call normalize() before comparing (declared and introspected forms come back
/// normalised already): indexes sorted by name, uniques and foreign keys by columns.
struct TableSchema {
  /// Table name.
  std::string name;
  std::vector<ColumnSchema> columns;        ///< In table order.
  std::vector<std::string> primary_key;     ///< Key columns in key order.
  /// Plain indexes (sorted by name once normalised).
  std::vector<IndexSchema> indexes;
  /// UNIQUE constraints (sorted by columns once normalised).
  std::vector<UniqueSchema> uniques;
  /// Foreign keys (sorted by columns once normalised).
  std::vector<ForeignKeySchema> foreign_keys;
  /// CHECK constraints (not compared by ==).
  std::vector<CheckSchema> checks;

  /// Sorts the constraint lists so two schemas of the same table compare equal.
  void normalize();
  /// The column named `name`, or nullptr.
  const ColumnSchema* column(std::string_view name) const;

  /// Everything but `checks` (see CheckSchema).
  friend bool operator==(const TableSchema& a, const TableSchema& b) {
    return a.name == b.name && a.columns == b.columns && a.primary_key == b.primary_key &&
           a.indexes == b.indexes && a.uniques == b.uniques && a.foreign_keys == b.foreign_keys;
  }
};

/// A readable multi-line description (for test failures and migration reports).
std::string describe(const TableSchema& t);

}  // namespace corm
