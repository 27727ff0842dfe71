#pragma once
// A small shared thread pool for the few libpq calls that can only block (PQcancel opens its own
// connection to deliver a cancel request). Queries never run here: they run on the io_context.

#include <boost/asio/any_io_executor.hpp>

namespace corm::asyncio_detail {

/// The executor of the process-wide blocking helper pool (two threads, started on first use).
boost::asio::any_io_executor blocking_executor();

}  // namespace corm::asyncio_detail
