#pragma once
// Introspection: what tables, columns, indexes, unique constraints and foreign keys a database
// actually has, as TableSchema (the type MetaData::schema returns, so the two compare with ==).
// The work is a sans-I/O plan: it hands out the queries to run and takes their results, so the
// sync front (corm::inspect below) and the async front drive the same code.
//
//   corm::InspectPlan plan(conn.dialect());
//   while (auto q = plan.next()) plan.feed(conn.exec_driver_sql(q->sql, q->params));
//   std::vector<corm::TableSchema> tables = plan.take();

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/core/result.hpp"
#include "corm/sql/schema/detail/awaiting_connection.hpp"
#include "corm/sql/schema/table_schema.hpp"

namespace corm {

/// A query in the dialect's own placeholder syntax ($n / ?n), for exec_driver_sql.
struct DriverQuery {
  /// The SQL text.
  std::string sql;
  /// Bind parameters, in placeholder order.
  std::vector<Value> params;
};

/// Reads a database's schema step by step. PostgreSQL: the current schema, through pg_catalog
/// and information_schema. SQLite: the main database, through sqlite_master and the pragma
/// table-valued functions. Not thread-safe; one plan per inspection.
class InspectPlan {
 public:
  /// `only`: restrict to these table names (empty = every user table).
  explicit InspectPlan(Dialect d, std::vector<std::string> only = {});
  ~InspectPlan();
  /// Moves the plan; the moved-from plan must not be used.
  InspectPlan(InspectPlan&&) noexcept;
  /// Moves the plan; the moved-from plan must not be used.
  InspectPlan& operator=(InspectPlan&&) noexcept;

  /// The next query to run, or nullopt when the inspection is complete.
  std::optional<DriverQuery> next();
  /// The result of the query next() returned last. UsageError when none is outstanding.
  void feed(const Result& r);
  /// The tables found, sorted by name, each normalised. UsageError before completion.
  std::vector<TableSchema> take();

  struct State;

 private:
  std::unique_ptr<State> s_;
};

/// Inspects the database behind `c` (anything with dialect() and exec_driver_sql(sql, params),
/// e.g. corm::Connection).
template <class C>
std::vector<TableSchema> inspect(C& c, std::vector<std::string> only = {}) {
  static_assert(!detail::AwaitingConnection<C>,
                "corm::inspect(conn) needs a synchronous corm::Connection; on an AsyncConnection write "
                "`co_await corm::inspect(conn)` (corm/asyncio/async_schema.hpp)");
  InspectPlan plan(c.dialect(), std::move(only));
  while (auto q = plan.next()) plan.feed(c.exec_driver_sql(q->sql, std::move(q->params)));
  return plan.take();
}

}  // namespace corm
