#pragma once
// The version table, `corm_version`: one row holding the revision the database is at (no row =
// base). It is written in the same transaction as the revision it records, so the two never
// disagree. Revision ids are bound parameters online and literals (through sql_string_literal)
// only in offline scripts.

#include <optional>
#include <string>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/sql/schema/inspect.hpp"

namespace corm::migrate {

/// The table's name; autogenerate and check leave it out of every comparison.
inline constexpr const char* version_table_name = "corm_version";

/// CREATE TABLE IF NOT EXISTS for the version table.
std::string create_version_table_sql(Dialect d);
/// One row, one column (0 or 1) saying whether the version table exists.
DriverQuery version_table_exists_query(Dialect d);
/// SELECT of the current revision (zero rows = base).
DriverQuery read_version_query(Dialect d);
/// The statements that move the recorded revision from `from` to `to` (nullopt = base).
std::vector<DriverQuery> write_version_queries(Dialect d, const std::optional<std::string>& from,
                                               const std::optional<std::string>& to);
/// The same as plain SQL with the ids written as literals, for `--sql` scripts.
std::vector<std::string> write_version_sql(Dialect d, const std::optional<std::string>& from,
                                           const std::optional<std::string>& to);

}  // namespace corm::migrate
