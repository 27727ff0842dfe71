#include "asyncio/blocking_executor.hpp"

#include <boost/asio/thread_pool.hpp>

namespace corm::asyncio_detail {

boost::asio::any_io_executor blocking_executor() {
  // Leaked on purpose: its threads must outlive every engine, including static ones.
  static auto* pool = new boost::asio::thread_pool(2);
  return pool->get_executor();
}

}  // namespace corm::asyncio_detail
