#pragma once
// The schema operations of the sync front, awaitable on an AsyncConnection:
//
//   co_await corm::create_all(conn, metadata);   // CREATE TABLE in foreign-key order
//   auto tables = co_await corm::inspect(conn);  // what the database has
//
// As on the sync front, the caller commits (DDL is transactional on PostgreSQL and SQLite).

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "corm/asyncio/async_connection.hpp"
#include "corm/sql/schema/inspect.hpp"
#include "corm/sql/schema/metadata.hpp"

namespace corm {

/// Runs metadata.create_all_sql on `conn`, one statement after another. The caller commits.
[[nodiscard]] boost::asio::awaitable<void> create_all(AsyncConnection& conn, const MetaData& metadata,
                                                      DdlOptions options = {});
/// Runs metadata.drop_all_sql on `conn`. The caller commits.
[[nodiscard]] boost::asio::awaitable<void> drop_all(AsyncConnection& conn, const MetaData& metadata,
                                                    DdlOptions options = {});
/// Inspects the database behind `conn` (see corm::inspect); `only` restricts the table names.
[[nodiscard]] boost::asio::awaitable<std::vector<TableSchema>> inspect(AsyncConnection& conn,
                                                                      std::vector<std::string> only = {});

}  // namespace corm
