#pragma once
// AsyncEngine: the async front's entry point — SQLAlchemy's create_async_engine. One per
// database per process; cheap to copy (copies share the pool); safe when the io_context runs on
// several threads.

#include <memory>
#include <source_location>
#include <optional>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "corm/asyncio/async_connection.hpp"
#include "corm/core/url.hpp"
#include "corm/front/engine_options.hpp"
#include "corm/core/events.hpp"
#include "corm/pool/detail/pool_core.hpp"

namespace corm {

/// A database and its pool, for coroutines. Connections are opened without blocking a thread
/// (PostgreSQL: PQconnectStart/PQconnectPoll on the io_context; SQLite: on the connection's
/// worker thread).
class AsyncEngine {
 public:
  /// Checks a connection out, waiting (never blocking a thread) up to pool_timeout. Waiters are
  /// served first come, first served. Throws PoolTimeout or ConnectError; completes with
  /// operation_aborted when the caller is cancelled while waiting (nothing leaks).
  /// Until it is returned, the pool names the caller's file:line as its holder (in
  /// PoolTimeout's message and leak warnings); leave `where` defaulted.
  boost::asio::awaitable<AsyncConnection> connect(std::source_location where = std::source_location::current());
  /// connect() naming the holder `label` (e.g. "report job 17") instead of a file:line.
  boost::asio::awaitable<AsyncConnection> connect(std::string label,
                                                  std::source_location where = std::source_location::current());
  /// The dialect the URL selects.
  Dialect dialect() const noexcept;
  /// The URL (its str() hides the password).
  const Url& url() const noexcept;
  /// Listener registry, shared by every connection of this engine.
  Events& events() noexcept;
  /// Pool counts.
  PoolStatus pool_status() const;
  /// Pool counters and gauges for export: render with to_prometheus().
  PoolStats pool_stats() const;
  /// Physical connections opened so far (a monitoring counter).
  std::uint64_t connections_opened() const;
  /// Closes the idle pooled connections and ends the rest of the engine's work: coroutines
  /// waiting in connect() complete with UsageError, statements running on checked-out
  /// connections are cancelled (QueryCanceled), and those connections are closed when they come
  /// back. The engine stays usable: a later connect() opens new connections.
  void dispose() noexcept;
  /// The options the engine was created with.
  const EngineOptions& options() const noexcept;
  /// The executor connections and timers run on.
  boost::asio::any_io_executor get_executor() const noexcept;
  /// Runs a plain read (`Compiled::plain_read`: a SELECT that locks nothing) outside any
  /// transaction on whichever pooled connection is free, in one libpq pipeline with the reads
  /// other coroutines queued meanwhile (see EngineOptions::pipeline_session_reads). Where that
  /// does not apply (pipelines_reads() false, or not a plain read) it checks a connection out
  /// and runs the statement alone. Each caller gets its own rows or its own exception.
  boost::asio::awaitable<Result> execute_pipelined_read(Compiled statement);
  /// True when reads may be pipelined: PostgreSQL, pipeline_session_reads and
  /// defer_begin_past_reads on, no engine-wide isolation level, and a connection has shown that
  /// the server's default isolation is READ COMMITTED.
  bool pipelines_reads() const noexcept;

 private:
  friend AsyncEngine create_async_engine(boost::asio::any_io_executor, std::string_view, EngineOptions);
  friend class asyncio_detail::ReadPipeline;
  explicit AsyncEngine(std::shared_ptr<asyncio_detail::AsyncEngineState> s) : state_(std::move(s)) {}
  /// connect() when the pool has a connection ready (AsyncPool::checkout_ready): no coroutine
  /// frame, no suspension. nullopt: co_await connect().
  std::optional<AsyncConnection> connect_now(std::string_view label, std::source_location where);
  boost::asio::awaitable<Result> execute_alone(Compiled statement);
  std::shared_ptr<asyncio_detail::AsyncEngineState> state_;
};

/// Creates an async engine on `executor` for `url`. Validates URL and options without I/O
/// (ConfigError); connections open on first use.
AsyncEngine create_async_engine(boost::asio::any_io_executor executor, std::string_view url, EngineOptions options = {});

}  // namespace corm
