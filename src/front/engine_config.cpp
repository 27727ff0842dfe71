#include "front/engine_config.hpp"

#include <fmt/format.h>

#include "corm/core/error.hpp"

namespace corm::detail {

EngineOptions resolve_options(const Url& url, EngineOptions options) {
  auto& p = options.pool;
  if (p.kind == PoolKind::queue && p.pool_size + p.max_overflow == 0)
    throw ConfigError("pool_size + max_overflow is 0, so no connection could ever be checked out; set pool_size >= 1");
  if (p.pool_timeout.count() < 0)
    throw ConfigError(fmt::format("pool_timeout is {} ms; it must be 0 or more", p.pool_timeout.count()));
  if (options.command_timeout.count() < 0)
    throw ConfigError(fmt::format("command_timeout is {} ms; it must be 0 (none) or more", options.command_timeout.count()));
  if (url.dialect() == Dialect::sqlite && url.is_memory()) {
    // Every connection to sqlite:// would be a different, empty database: share one.
    p.kind = PoolKind::single;
    p.pool_recycle = std::chrono::milliseconds(-1);
  }
  if (options.isolation_level) options.connect.isolation_level = options.isolation_level;
  if (!options.log) options.log = stderr_sink;
  driver::validate(url, options.connect);
  return options;
}

}  // namespace corm::detail
