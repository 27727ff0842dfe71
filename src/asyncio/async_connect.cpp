// Dispatch from a URL's dialect to its async driver.
#include "asyncio/async_driver.hpp"
#if CORM_WITH_POSTGRESQL
#include "asyncio/pg_async_connection.hpp"
#endif
#if CORM_WITH_MYSQL
#include "asyncio/mysql_async_connection.hpp"
#endif
#include "asyncio/threaded_async_connection.hpp"

namespace corm::asyncio_detail {

asio::awaitable<std::unique_ptr<AsyncDriverConnection>> async_connect(asio::any_io_executor ex, const Url& url,
                                                                      const driver::ConnectOptions& options) {
#if CORM_WITH_POSTGRESQL
  if (url.dialect() == Dialect::postgresql) co_return co_await PgAsyncConnection::connect(ex, url, options);
#else
  // Without PostgreSQL the threaded path's driver::connect reports the missing driver.
  (void)ex;
#endif
#if CORM_WITH_MYSQL
  if (url.dialect() == Dialect::mysql) co_return co_await MysqlAsyncConnection::connect(ex, url, options);
#endif
  co_return co_await ThreadedAsyncConnection::connect(url, options);
}

}  // namespace corm::asyncio_detail
