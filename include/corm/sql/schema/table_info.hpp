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
  FkAction on_delete = FkAction::no_action;
  FkAction on_update = FkAction::no_action;
  const TableInfo& (*target)() = nullptr;  ///< The referred model's TableInfo.
};

/// One mapped column at run time. `get`/`set_from_row` read and write the member of an object
/// of the owning model, type-erased so the session can work on any model through TableInfo.
struct ColumnInfo {
  std::string name;
  std::size_t index = 0;  ///< Ordinal in declaration order.
  ColumnType type = ColumnType::text;
  bool nullable = false;
  int max_length = 0;
  int precision = 0;
  int scale = 0;
  bool primary_key = false;
  bool identity = false;
  bool unique = false;
  bool indexed = false;
  bool version = false;
  std::optional<std::string> server_default;
  std::optional<std::string> check;
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
  std::string name;
  std::size_t index = 0;
  RelationshipKind kind = RelationshipKind::many_to_one;
  LoaderStrategy default_loader = LoaderStrategy::lazy;
  Cascade cascade = Cascade::save_update;
  std::string back_populates;
  const TableInfo& (*target)() = nullptr;
  std::size_t local_column = 0;
  std::size_t remote_column = 0;
  const TableInfo& (*secondary)() = nullptr;  ///< Association table (many_to_many only).
  std::size_t secondary_local = 0;
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
  std::string name;
  const std::type_info* type = nullptr;
  std::vector<ColumnInfo> columns;
  std::vector<std::size_t> primary_key;        ///< Column ordinals, in key order.
  std::optional<std::size_t> version_column;   ///< Ordinal of the version_counter column.
  std::vector<IndexSchema> indexes;            ///< Declared indexes (INCLUDE kept).
  std::vector<UniqueSchema> uniques;
  std::vector<CheckSchema> checks;
  std::vector<ForeignKeySchema> foreign_keys;
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
