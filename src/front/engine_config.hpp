#pragma once
// Engine options as both fronts resolve them: checked without I/O, completed per dialect.

#include "corm/core/url.hpp"
#include "corm/front/engine_options.hpp"

namespace corm::detail {

/// Checks and completes options for `url` (SQLite memory → single shared connection; default
/// log sink; engine isolation level handed to the driver). Throws ConfigError, never does I/O.
EngineOptions resolve_options(const Url& url, EngineOptions options);

}  // namespace corm::detail
