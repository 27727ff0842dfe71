#pragma once
// MetaData: the registry of mapped tables an application creates, drops and migrates together.
//
//   corm::MetaData md;
//   md.add<Author>().add<Book>();
//   md.create_all(conn);          // CREATE TABLE in foreign-key order (authors before books)
//   co_await corm::create_all(async_conn, md);   // the same on the async front

#include <string>
#include <string_view>
#include <vector>

#include "corm/core/dialect.hpp"
#include "corm/sql/schema/ddl.hpp"
#include "corm/sql/schema/detail/awaiting_connection.hpp"
#include "corm/sql/schema/table_info.hpp"
#include "corm/sql/schema/table_schema.hpp"

namespace corm {

/// A set of mapped tables. Not thread-safe while being filled; read-only use is.
class MetaData {
 public:
  /// Registers T (idempotent). Two different models with one table name are a ConfigError.
  ///@{
  template <Mapped T>
  MetaData& add() {
    return add(table_info<T>());
  }
  MetaData& add(const TableInfo& t);
  ///@}

  /// Registered tables, in registration order.
  const std::vector<const TableInfo*>& tables() const noexcept { return tables_; }
  /// The table named `name`, or nullptr.
  const TableInfo* find(std::string_view name) const noexcept;

  /// Tables ordered so every table comes after the tables its foreign keys refer to (self
  /// references ignored; ties keep registration order). A cycle is a ConfigError naming it.
  std::vector<const TableInfo*> sorted_tables() const;

  /// Every CREATE statement, in foreign-key order.
  std::vector<std::string> create_all_sql(Dialect d, DdlOptions o = {}) const;
  /// Every DROP statement, in reverse foreign-key order.
  std::vector<std::string> drop_all_sql(Dialect d, DdlOptions o = {}) const;
  /// The declared schema of every table as it exists on `d` (compare with corm::inspect).
  std::vector<TableSchema> schema(Dialect d) const;

  /// Runs create_all_sql on a connection (`c.dialect()`, `c.exec_driver_sql(sql, params)`),
  /// e.g. corm::Connection. The caller commits.
  template <class C>
  void create_all(C& c, DdlOptions o = {}) const {
    static_assert(!detail::AwaitingConnection<C>,
                  "MetaData::create_all(conn) needs a synchronous corm::Connection; on an AsyncConnection "
                  "write `co_await corm::create_all(conn, metadata)` (corm/asyncio/async_schema.hpp)");
    for (const std::string& s : create_all_sql(c.dialect(), o)) c.exec_driver_sql(s, {});
  }
  /// Runs drop_all_sql on a connection. The caller commits.
  template <class C>
  void drop_all(C& c, DdlOptions o = {}) const {
    static_assert(!detail::AwaitingConnection<C>,
                  "MetaData::drop_all(conn) needs a synchronous corm::Connection; on an AsyncConnection "
                  "write `co_await corm::drop_all(conn, metadata)` (corm/asyncio/async_schema.hpp)");
    for (const std::string& s : drop_all_sql(c.dialect(), o)) c.exec_driver_sql(s, {});
  }

 private:
  std::vector<const TableInfo*> tables_;
};

}  // namespace corm
