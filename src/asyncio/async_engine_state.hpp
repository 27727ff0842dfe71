#pragma once
// What one async engine shares between its connections.

#include <atomic>
#include <memory>

#include "asyncio/async_pool.hpp"
#include "corm/core/url.hpp"
#include "corm/front/engine_options.hpp"
#include "corm/core/events.hpp"

namespace corm::asyncio_detail {

class ReadPipeline;

struct AsyncEngineState {
  asio::any_io_executor executor;
  Url url;
  EngineOptions options;
  Events events;
  std::shared_ptr<AsyncPool> pool;
  /// Session reads before a session's first write (AsyncEngine::execute_pipelined_read).
  std::shared_ptr<ReadPipeline> reads;
  /// Set once a plain read ran ahead of its BEGIN (the server's default isolation is READ
  /// COMMITTED): only then may a session's reads leave its own connection.
  std::atomic<bool> reads_precede_begin{false};
};

}  // namespace corm::asyncio_detail
