#include "corm/asyncio/async_schema.hpp"

namespace corm {

// The metadata and connection are the caller's and outlive the co_await; options and names are
// copied into the frame. The statements are held in a named variable: GCC 12 destroys the
// temporary of a range-for's initializer too early in a coroutine.
boost::asio::awaitable<void> create_all(AsyncConnection& conn, const MetaData& metadata, DdlOptions options) {
  std::vector<std::string> statements = metadata.create_all_sql(conn.dialect(), options);
  for (std::string& sql : statements) co_await conn.exec_driver_sql(std::move(sql));
}

boost::asio::awaitable<void> drop_all(AsyncConnection& conn, const MetaData& metadata, DdlOptions options) {
  std::vector<std::string> statements = metadata.drop_all_sql(conn.dialect(), options);
  for (std::string& sql : statements) co_await conn.exec_driver_sql(std::move(sql));
}

boost::asio::awaitable<std::vector<TableSchema>> inspect(AsyncConnection& conn, std::vector<std::string> only) {
  InspectPlan plan(conn.dialect(), std::move(only));
  while (auto q = plan.next()) plan.feed(co_await conn.exec_driver_sql(std::move(q->sql), std::move(q->params)));
  co_return plan.take();
}

}  // namespace corm
