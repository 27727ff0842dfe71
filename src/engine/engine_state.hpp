#pragma once
// What one sync engine shares between its connections: the URL, options, events and pool.

#include <memory>

#include "corm/core/url.hpp"
#include "corm/engine/engine_options.hpp"
#include "corm/engine/events.hpp"
#include "corm/pool/queue_pool.hpp"

namespace corm::detail {

struct EngineState {
  Url url;
  EngineOptions options;
  Events events;
  std::unique_ptr<QueuePool> pool;
};

}  // namespace corm::detail
