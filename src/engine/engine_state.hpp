#pragma once
// What one engine shares between its connections: the URL, options, events, log sink and pool.

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
  LogSink log;
  std::unique_ptr<QueuePool> pool;
};

/// Checks and completes options for `url` (SQLite memory → single connection; log sink).
/// Throws ConfigError without any network I/O.
EngineOptions resolve_options(const Url& url, EngineOptions options);

/// The statement that begins a transaction on `d` at `level` (empty for AUTOCOMMIT).
/// `explicit_level` is false when the level is the engine's default, already set at connect.
std::string begin_statement(Dialect d, IsolationLevel level, bool explicit_level);

/// The level a dialect uses when none is configured.
IsolationLevel default_isolation(Dialect d) noexcept;

}  // namespace corm::detail
