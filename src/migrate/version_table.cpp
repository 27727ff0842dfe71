#include "corm/migrate/version_table.hpp"

#include "corm/migrate/sql_literal.hpp"

namespace corm::migrate {

namespace {
std::string table(Dialect d) { return quote_identifier(d, version_table_name); }
std::string column(Dialect d) { return quote_identifier(d, "version_num"); }
std::string param(Dialect d, std::size_t n) {
  std::string s;
  append_placeholder(s, d, n);
  return s;
}
}  // namespace

std::string create_version_table_sql(Dialect d) {
  return "CREATE TABLE IF NOT EXISTS " + table(d) + " (" + column(d) + " VARCHAR(64) NOT NULL, CONSTRAINT " +
         quote_identifier(d, "corm_version_pkc") + " PRIMARY KEY (" + column(d) + "))";
}

DriverQuery version_table_exists_query(Dialect d) {
  if (d == Dialect::postgresql)
    return {"SELECT CASE WHEN to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1)) IS NULL THEN 0 "
            "ELSE 1 END::int8",
            {Value(std::string(version_table_name))}};
  if (d == Dialect::mysql)
    return {"SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
            {Value(std::string(version_table_name))}};
  return {"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", {Value(std::string(version_table_name))}};
}

DriverQuery read_version_query(Dialect d) { return {"SELECT " + column(d) + " FROM " + table(d), {}}; }

std::vector<DriverQuery> write_version_queries(Dialect d, const std::optional<std::string>& from,
                                               const std::optional<std::string>& to) {
  if (from == to) return {};
  if (!from) return {{"INSERT INTO " + table(d) + " (" + column(d) + ") VALUES (" + param(d, 1) + ")", {Value(*to)}}};
  if (!to) return {{"DELETE FROM " + table(d) + " WHERE " + column(d) + " = " + param(d, 1), {Value(*from)}}};
  return {{"UPDATE " + table(d) + " SET " + column(d) + " = " + param(d, 1) + " WHERE " + column(d) + " = " + param(d, 2),
           {Value(*to), Value(*from)}}};
}

std::vector<std::string> write_version_sql(Dialect d, const std::optional<std::string>& from,
                                           const std::optional<std::string>& to) {
  if (from == to) return {};
  if (!from) return {"INSERT INTO " + table(d) + " (" + column(d) + ") VALUES (" + sql_string_literal(d, *to) + ")"};
  if (!to) return {"DELETE FROM " + table(d) + " WHERE " + column(d) + " = " + sql_string_literal(d, *from)};
  return {"UPDATE " + table(d) + " SET " + column(d) + " = " + sql_string_literal(d, *to) + " WHERE " + column(d) +
          " = " + sql_string_literal(d, *from)};
}

}  // namespace corm::migrate
