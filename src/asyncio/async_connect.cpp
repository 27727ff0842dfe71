// Dispatch from a URL's dialect to its async driver.
#include "asyncio/async_driver.hpp"
#include "asyncio/pg_async_connection.hpp"
#include "asyncio/threaded_async_connection.hpp"

namespace corm::asyncio_detail {

asio::awaitable<std::unique_ptr<AsyncDriverConnection>> async_connect(asio::any_io_executor ex, const Url& url,
                                                                      const driver::ConnectOptions& options) {
  if (url.dialect() == Dialect::postgresql) co_return co_await PgAsyncConnection::connect(ex, url, options);
  co_return co_await ThreadedAsyncConnection::connect(url, options);
}

}  // namespace corm::asyncio_detail
