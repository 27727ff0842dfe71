#pragma once
// DDL text per dialect for mapped tables: CREATE TABLE (columns, primary key, uniques, checks,
// foreign keys), CREATE INDEX (INCLUDE on PostgreSQL), DROP TABLE. Pure functions: the caller
// runs the statements (MetaData::create_all does).

#include <string>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/sql/schema/table_info.hpp"

namespace corm {

/// `checkfirst` adds IF NOT EXISTS / IF EXISTS so create_all and drop_all can be re-run.
struct DdlOptions {
  /// Add IF NOT EXISTS / IF EXISTS (default true).
  bool checkfirst = true;
};

/// The SQL type of a column on `d`: "BIGINT", "VARCHAR(100)", "NUMERIC(12,2)", "TIMESTAMPTZ"
/// on PostgreSQL; on SQLite names with TEXT affinity for the types it stores as text
/// ("TIMESTAMP_TEXT", "DECIMAL_TEXT(12,2)", ...), so SQLite never coerces those values to
/// numbers and introspection can tell the types apart.
std::string sql_type_name(Dialect d, ColumnType t, int max_length = 0, int precision = 0, int scale = 0);

/// CREATE TABLE then one CREATE INDEX per index, for table `t`.
std::vector<std::string> create_table_sql(Dialect d, const TableInfo& t, DdlOptions o = {});
/// DROP TABLE for `t`.
std::string drop_table_sql(Dialect d, const TableInfo& t, DdlOptions o = {});

}  // namespace corm
