#pragma once
// Engine: the synchronous front's entry point — a URL, a pool and the event registry. Create one
// per database per process and share it; it is thread-safe. `connect()` checks a connection out.

#include <memory>
#include <source_location>
#include <string_view>

#include "corm/core/dialect.hpp"
#include "corm/core/url.hpp"
#include "corm/engine/connection.hpp"
#include "corm/front/engine_options.hpp"
#include "corm/core/events.hpp"
#include "corm/pool/detail/pool_core.hpp"

namespace corm {

namespace detail {
struct EngineState;
}

/// A database and its connection pool. Cheap to copy (copies share the pool).
class Engine {
 public:
  /// Checks a connection out of the pool (waiting up to pool_timeout). Throws PoolTimeout,
  /// ConnectError. Until it is returned, the pool names the caller's file:line as its holder
  /// (in PoolTimeout's message and leak warnings); leave `where` defaulted.
  Connection connect(std::source_location where = std::source_location::current());
  /// connect() naming the holder `label` (e.g. "report job 17") instead of a file:line.
  Connection connect(std::string_view label, std::source_location where = std::source_location::current());
  /// The dialect the URL selects.
  Dialect dialect() const noexcept;
  /// The URL (print it freely: its str() hides the password).
  const Url& url() const noexcept;
  /// The listener registry (connect, checkout, checkin, before/after_execute).
  Events& events() noexcept;
  /// Pool counts: size, idle, checked out, overflow, waiters.
  PoolStatus pool_status() const;
  /// Pool counters and gauges for export: render with to_prometheus().
  PoolStats pool_stats() const;
  /// Closes idle pooled connections (checked-out ones close when returned).
  void dispose() noexcept;
  /// The options the engine was created with.
  const EngineOptions& options() const noexcept;

 private:
  friend Engine create_engine(std::string_view url, EngineOptions options);
  explicit Engine(std::shared_ptr<detail::EngineState> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::EngineState> state_;
};

/// Creates an engine for `url` ("postgresql://…", "sqlite:///app.db", "sqlite://"). Validates the
/// URL and options without network I/O (ConfigError); connections open lazily on first use.
Engine create_engine(std::string_view url, EngineOptions options = {});

}  // namespace corm
