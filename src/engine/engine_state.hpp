#pragma once
// What one sync engine shares between its connections: the URL, options, events and pool.

#include <memory>

#include "corm/core/url.hpp"
#include "corm/front/engine_options.hpp"
#include "corm/core/events.hpp"
#include "corm/pool/queue_pool.hpp"

namespace corm::detail {

struct EngineState {
  Url url;
  EngineOptions options;
  Events events;
  std::unique_ptr<QueuePool> pool;
};

}  // namespace corm::detail
