#pragma once
// Shared by insert/update/delete: RETURNING lists (both dialects; SQLite ≥ 3.35).

#include <vector>

#include "corm/sql/expression/expr.hpp"
#include "corm/sql/schema/table_info.hpp"

namespace corm::sql::detail {

/// Column nodes for every mapped column of `t` (RETURNING the whole entity).
std::vector<NodePtr> entity_columns(const TableInfo& t);
/// Throws UsageError: rows of a multi-row INSERT must set the same columns.
[[noreturn]] void throw_insert_shape_mismatch(const std::string& table);
/// Throws UsageError: do_update/do_nothing before on_conflict, or DO UPDATE with no target.
[[noreturn]] void throw_conflict_usage(const char* what);

}  // namespace corm::sql::detail
