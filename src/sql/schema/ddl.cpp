// CREATE / DROP TABLE and CREATE INDEX text per dialect.

#include "corm/sql/schema/ddl.hpp"

#include "corm/core/error.hpp"

namespace corm {

namespace {
std::string decimal_type(std::string base, int precision, int scale) {
  if (precision > 0) {  // appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "(" + string
    base += '(';
    base += std::to_string(precision);
    base += ',';
    base += std::to_string(scale);
    base += ')';
  }
  return base;
}

// MySQL / MariaDB column types. Strings and bytes without a length are the unbounded TEXT / BLOB
// family, which cannot be indexed (see check_indexable); timestamps keep microseconds.
std::string mysql_type_name(ColumnType t, int max_length, int precision, int scale) {
  switch (t) {
    case ColumnType::boolean: return "TINYINT(1)";
    case ColumnType::int16: return "SMALLINT";
    case ColumnType::int32: return "INT";
    case ColumnType::int64: return "BIGINT";
    case ColumnType::float32: return "FLOAT";
    case ColumnType::float64: return "DOUBLE";
    case ColumnType::text: return max_length > 0 ? "VARCHAR(" + std::to_string(max_length) + ")" : "LONGTEXT";
    case ColumnType::bytes: return max_length > 0 ? "VARBINARY(" + std::to_string(max_length) + ")" : "LONGBLOB";
    case ColumnType::timestamp: return "DATETIME(6)";
    case ColumnType::date: return "DATE";
    // A bare DECIMAL is DECIMAL(10,0) on MySQL, which would drop the cents: without a declared
    // precision take the widest exact type.
    case ColumnType::decimal: return precision > 0 ? decimal_type("DECIMAL", precision, scale) : "DECIMAL(65,30)";
    case ColumnType::uuid: return "CHAR(36)";
    case ColumnType::json: return "JSON";
  }
  return "LONGTEXT";
}

void check_mysql_indexable(const TableInfo& t, const std::vector<std::string>& columns, std::string_view what) {
  for (const std::string& name : columns) {
    const ColumnInfo* c = t.find_column(name);
    if (!c || c->max_length > 0) continue;
    if (c->type == ColumnType::text || c->type == ColumnType::bytes || c->type == ColumnType::json)
      throw ConfigError("column '" + t.name + "." + name + "' is " + std::string(what) +
                        " but has no length; MySQL cannot index an unbounded TEXT/BLOB column: declare it "
                        "with corm::max_length(n) (VARCHAR(n); at most 768 characters for a utf8mb4 key)");
  }
}
}  // namespace

std::string sql_type_name(Dialect d, ColumnType t, int max_length, int precision, int scale) {
  if (d == Dialect::mysql) return mysql_type_name(t, max_length, precision, scale);
  const bool pg = d == Dialect::postgresql;
  switch (t) {
    case ColumnType::boolean: return "BOOLEAN";
    case ColumnType::int16: return "SMALLINT";
    case ColumnType::int32: return pg ? "INTEGER" : "INT";  // SQLite: INTEGER is kept for rowid keys
    case ColumnType::int64: return "BIGINT";
    case ColumnType::float32: return "REAL";
    case ColumnType::float64: return pg ? "DOUBLE PRECISION" : "DOUBLE";
    case ColumnType::text:
      return max_length > 0 ? "VARCHAR(" + std::to_string(max_length) + ")" : "TEXT";
    case ColumnType::bytes: return pg ? "BYTEA" : "BLOB";
    case ColumnType::timestamp: return pg ? "TIMESTAMPTZ" : "TIMESTAMP_TEXT";
    case ColumnType::date: return pg ? "DATE" : "DATE_TEXT";
    case ColumnType::decimal: return decimal_type(pg ? "NUMERIC" : "DECIMAL_TEXT", precision, scale);
    case ColumnType::uuid: return pg ? "UUID" : "UUID_TEXT";
    case ColumnType::json: return pg ? "JSONB" : "JSON_TEXT";
  }
  return "TEXT";
}

namespace {
std::string column_list(Dialect d, const std::vector<std::string>& cols) {
  std::string out = "(";
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i) out += ", ";
    out += quote_identifier(d, cols[i]);
  }
  return out + ")";
}
}  // namespace

std::vector<std::string> create_table_sql(Dialect d, const TableInfo& t, DdlOptions o) {
  const bool pg = d == Dialect::postgresql;
  const bool mysql = d == Dialect::mysql;
  if (mysql) {
    std::vector<std::string> pk;
    for (std::size_t i : t.primary_key) pk.push_back(t.columns[i].name);
    check_mysql_indexable(t, pk, "part of the primary key");
    for (const UniqueSchema& u : t.uniques) check_mysql_indexable(t, u.columns, "in unique constraint '" + u.name + "'");
    for (const IndexSchema& ix : t.indexes) check_mysql_indexable(t, ix.columns, "in index '" + ix.name + "'");
    for (const ForeignKeySchema& f : t.foreign_keys)
      check_mysql_indexable(t, f.columns, "in foreign key '" + f.name + "' (MySQL indexes every foreign key)");
    for (const ColumnInfo& c : t.columns)
      if (c.identity && !(c.primary_key && t.primary_key.size() == 1))
        throw ConfigError("column '" + t.name + "." + c.name +
                          "' is an identity column, which corm supports on MySQL only as the single-column primary "
                          "key (BIGINT AUTO_INCREMENT); make it the primary key or drop corm::identity");
  }
  // SQLite's only generated key is the rowid, reachable as `INTEGER PRIMARY KEY` on the one key column.
  bool sqlite_rowid_key = false;
  for (const ColumnInfo& c : t.columns) {
    if (!c.identity || pg || mysql) continue;
    if (!c.primary_key || t.primary_key.size() != 1)
      throw ConfigError("column '" + t.name + "." + c.name +
                        "' is an identity column, which SQLite supports only as the single-column primary key "
                        "(INTEGER PRIMARY KEY AUTOINCREMENT); make it the primary key or drop corm::identity");
    sqlite_rowid_key = true;
  }
  std::string sql = "CREATE TABLE ";
  if (o.checkfirst) sql += "IF NOT EXISTS ";
  sql += quote_identifier(d, t.name) + " (";
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const ColumnInfo& c = t.columns[i];
    if (i) sql += ", ";
    sql += quote_identifier(d, c.name) + " ";
    if (c.identity && !pg && !mysql) {
      sql += "INTEGER PRIMARY KEY AUTOINCREMENT";
    } else {
      sql += sql_type_name(d, c.type, c.max_length, c.precision, c.scale);
      if (c.identity && pg) sql += " GENERATED BY DEFAULT AS IDENTITY";
    }
    if (!c.nullable || c.primary_key) sql += " NOT NULL";
    if (c.identity && mysql) sql += " AUTO_INCREMENT";
    if (c.server_default) sql += " DEFAULT " + *c.server_default;
  }
  if (!t.primary_key.empty() && !sqlite_rowid_key) {
    std::vector<std::string> pk;
    for (std::size_t i : t.primary_key) pk.push_back(t.columns[i].name);
    sql += ", CONSTRAINT " + quote_identifier(d, "pk_" + t.name) + " PRIMARY KEY " + column_list(d, pk);
  }
  for (const UniqueSchema& u : t.uniques)
    sql += ", CONSTRAINT " + quote_identifier(d, u.name) + " UNIQUE " + column_list(d, u.columns);
  for (const ForeignKeySchema& f : t.foreign_keys) {
    sql += ", CONSTRAINT " + quote_identifier(d, f.name) + " FOREIGN KEY " + column_list(d, f.columns) +
           " REFERENCES " + quote_identifier(d, f.referred_table) + " " + column_list(d, f.referred_columns);
    if (f.on_delete != FkAction::no_action) sql += " ON DELETE " + std::string(fk_action_sql(f.on_delete));
    if (f.on_update != FkAction::no_action) sql += " ON UPDATE " + std::string(fk_action_sql(f.on_update));
  }
  for (const CheckSchema& c : t.checks)
    sql += ", CONSTRAINT " + quote_identifier(d, c.name) + " CHECK (" + c.sql + ")";
  sql += ")";
  // Byte-exact strings as on PostgreSQL: '=' and ORDER BY compare code points, 'a' <> 'A'.
  if (mysql) sql += " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

  std::vector<std::string> out{std::move(sql)};
  for (const IndexSchema& ix : t.indexes) {
    std::string s = ix.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
    if (o.checkfirst) s += "IF NOT EXISTS ";
    s += quote_identifier(d, ix.name) + " ON " + quote_identifier(d, t.name) + " " + column_list(d, ix.columns);
    // SQLite has no covering indexes: it gets the index on the key columns only.
    if (pg && !ix.include.empty()) s += " INCLUDE " + column_list(d, ix.include);
    out.push_back(std::move(s));
  }
  return out;
}

std::string drop_table_sql(Dialect d, const TableInfo& t, DdlOptions o) {
  return std::string("DROP TABLE ") + (o.checkfirst ? "IF EXISTS " : "") + quote_identifier(d, t.name);
}

}  // namespace corm
