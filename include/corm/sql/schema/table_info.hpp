#pragma once
// TableInfo: the run-time form of a model's mapping, built once per model from its constexpr
// `corm::Model<T>::table` (thread-safe, on first use) and never changed. The expression
// language points at its ColumnInfo objects; DDL, hydration and the session read it.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "corm/core/codec.hpp"
#include "corm/core/result.hpp"
#include "corm/core/value.hpp"
#include "corm/sql/schema/model.hpp"
#include "corm/sql/schema/table_schema.hpp"

namespace corm {

class TableInfo;

/// A column's foreign key, resolved to names.
struct ForeignKeyInfo {
  std::string table;     ///< Referred table.
  std::string column;    ///< Referred column.
  /// ON DELETE action.
  FkAction on_delete = FkAction::no_action;
  /// ON UPDATE action.
  FkAction on_update = FkAction::no_action;
  const TableInfo& (*target)() = nullptr;  ///< The referred model's TableInfo.
};

/// One mapped column at run time. `get`/`set_from_row` read and write the member of an object
/// of the owning model, type-erased so the session can work on any model through TableInfo.
struct ColumnInfo {
  /// Column name.
  std::string name;
  std::size_t index = 0;  ///< Ordinal in declaration order.
  /// Portable storage type (from the member type).
  ColumnType type = ColumnType::text;
  /// True for a std::optional member.
  bool nullable = false;
  /// n of max_length(n); 0 when not given.
  int max_length = 0;
  /// Precision of numeric(p, s); 0 when not given.
  int precision = 0;
  /// Scale of numeric(p, s).
  int scale = 0;
  /// Part of the primary key.
  bool primary_key = false;
  /// Database-generated key (corm::identity).
  bool identity = false;
  /// Has a single-column UNIQUE constraint (corm::unique).
  bool unique = false;
  /// Has a single-column index (corm::indexed).
  bool indexed = false;
  /// The optimistic-locking counter (corm::version_counter).
  bool version = false;
  /// SQL text of corm::server_default, if given.
  std::optional<std::string> server_default;
  /// SQL text of a column-level corm::check, if given.
  std::optional<std::string> check;
  /// The column's foreign key (corm::references), if any.
  std::optional<ForeignKeyInfo> foreign_key;
  const TableInfo* table = nullptr;  ///< The owning table.

  /// The member's value of `*obj` (a pointer to the owning model) as a bind parameter.
  Value (*get)(const void* obj) = nullptr;
  /// Decodes cell `col` of `row` into the member of `*obj`; DataError on a mismatch.
  void (*set_from_row)(void* obj, const Row& row, std::size_t col) = nullptr;
  /// Decodes `cell` into the member of `*obj`: set_from_row without the Row, for reading a whole
  /// row's cells at once (detail::hydrate). Its DataError names neither table nor column.
  void (*set_from_cell)(void* obj, const Cell& cell) = nullptr;
  /// The value cell `col` of `row` decodes to: what get() reads from the member right after
  /// set_from_row() wrote it from that cell (a loaded object's snapshot, decoded when needed).
  Value (*value_from_row)(const Row& row, std::size_t col) = nullptr;
  /// The client default (default_value / default_fn), or nullptr when there is none.
  Value (*client_default)() = nullptr;
  /// True when `*obj`'s member holds a value-initialised value (0, "", nullopt): an identity
  /// column in that state is left out of INSERTs so the database generates it.
  bool (*is_unset)(const void* obj) = nullptr;
};

/// One relationship at run time. Links are single-column: `local_column` (on this table) equals
/// `remote_column` (on the target) — or, for many_to_many, local = secondary_local and
/// secondary_remote = remote through the association table.
struct RelationshipInfo {
  /// Relationship name.
  std::string name;
  /// Ordinal among the model's relationships, in declaration order.
  std::size_t index = 0;
  /// The relationship's shape.
  RelationshipKind kind = RelationshipKind::many_to_one;
  /// Loader strategy when a query gives none (corm::loader; default lazy).
  LoaderStrategy default_loader = LoaderStrategy::lazy;
  /// Cascade flags (corm::cascade; default save_update).
  Cascade cascade = Cascade::save_update;
  /// Name of the inverse relationship on the target; empty when none.
  std::string back_populates;
  /// The target model's TableInfo.
  const TableInfo& (*target)() = nullptr;
  /// Ordinal of the linking column on this table.
  std::size_t local_column = 0;
  /// Ordinal of the linking column on the target table.
  std::size_t remote_column = 0;
  const TableInfo& (*secondary)() = nullptr;  ///< Association table (many_to_many only).
  /// Ordinal of the association table's column that refers to this table (many_to_many only).
  std::size_t secondary_local = 0;
  /// Ordinal of the association table's column that refers to the target (many_to_many only).
  std::size_t secondary_remote = 0;
  /// Address of the `One<T>`/`Many<T>` member of `*obj`.
  void* (*holder)(void* obj) = nullptr;
  /// Marks the `One<T>`/`Many<T>` member of `*obj` unloaded (an object read from its row).
  void (*unload)(void* obj) = nullptr;
  /// True for One<T> holders (many_to_one, one_to_one).
  bool to_one() const noexcept {
    return kind == RelationshipKind::many_to_one || kind == RelationshipKind::one_to_one;
  }
};

/// The run-time mapping of one model. Obtain it with corm::table_info<T>().
class TableInfo {
 public:
  /// Table name.
  std::string name;
  /// The mapped model's type.
  const std::type_info* type = nullptr;
  /// Mapped columns, in declaration order (a column's `index` is its position here).
  std::vector<ColumnInfo> columns;
  std::vector<std::size_t> primary_key;        ///< Column ordinals, in key order.
  std::optional<std::size_t> version_column;   ///< Ordinal of the version_counter column.
  std::vector<IndexSchema> indexes;            ///< Declared indexes (INCLUDE kept).
  /// UNIQUE constraints: column-level ones and unique_constraint parts.
  std::vector<UniqueSchema> uniques;
  /// CHECK constraints: column-level ones and table-level check parts.
  std::vector<CheckSchema> checks;
  /// Foreign keys, one per column with corm::references.
  std::vector<ForeignKeySchema> foreign_keys;
  /// Relationships, in declaration order.
  std::vector<RelationshipInfo> relationships;

  /// The column named `n`, or nullptr.
  const ColumnInfo* find_column(std::string_view n) const noexcept;
  /// The column named `n`; ConfigError listing the mapped names when there is none.
  const ColumnInfo& column(std::string_view n) const;
  /// The relationship named `n`, or nullptr.
  const RelationshipInfo* find_relationship(std::string_view n) const noexcept;
  /// The declared schema as it exists on dialect `d` (SQLite: identity keys are int64, no
  /// INCLUDE columns), normalised for comparison with an introspected one.
  TableSchema schema(Dialect d) const;
};

/// The run-time mapping of T, built on first use (thread-safe) and kept for the program's life.
template <Mapped T>
const TableInfo& table_info();

}  // namespace corm

#include "corm/sql/schema/detail/build_table_info.hpp"
