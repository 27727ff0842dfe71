#pragma once
// What one async engine shares between its connections.

#include <memory>

#include "asyncio/async_pool.hpp"
#include "corm/core/url.hpp"
#include "corm/engine/engine_options.hpp"
#include "corm/engine/events.hpp"

namespace corm::asyncio_detail {

struct AsyncEngineState {
  asio::any_io_executor executor;
  Url url;
  EngineOptions options;
  Events events;
  std::shared_ptr<AsyncPool> pool;
};

}  // namespace corm::asyncio_detail
