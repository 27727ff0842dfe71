#include "corm/asyncio/async_engine.hpp"

#include "asyncio/async_engine_state.hpp"
#include "asyncio/read_pipeline.hpp"
#include "front/engine_config.hpp"

namespace corm {

AsyncEngine create_async_engine(boost::asio::any_io_executor executor, std::string_view url, EngineOptions options) {
  auto state = std::make_shared<asyncio_detail::AsyncEngineState>();
  state->executor = executor;
  state->url = Url::parse(url);
  state->options = detail::resolve_options(state->url, std::move(options));
  auto* raw = state.get();
  state->pool = std::make_shared<asyncio_detail::AsyncPool>(
      executor, state->options.pool,
      [raw] { return asyncio_detail::async_connect(raw->executor, raw->url, raw->options.connect); }, state->events,
      state->options.log);
  state->reads = std::make_shared<asyncio_detail::ReadPipeline>(state->options.pool.pool_size);
  return AsyncEngine(std::move(state));
}

std::optional<AsyncConnection> AsyncEngine::connect_now(std::string_view label, std::source_location where) {
  auto pooled = state_->pool->checkout_ready(CheckoutSite{label, where});
  if (!pooled) return std::nullopt;
  return AsyncConnection(state_, std::move(pooled), std::string(label), where);
}

boost::asio::awaitable<AsyncConnection> AsyncEngine::connect(std::source_location where) {
  return connect(std::string(), where);
}

boost::asio::awaitable<AsyncConnection> AsyncEngine::connect(std::string label, std::source_location where) {
  if (auto c = connect_now(label, where)) co_return std::move(*c);
  auto state = state_;  // keep the engine alive across the wait
  auto pooled = co_await state->pool->checkout(CheckoutSite{label, where});
  co_return AsyncConnection(std::move(state), std::move(pooled), std::move(label), where);
}

Dialect AsyncEngine::dialect() const noexcept { return state_->url.dialect(); }
const Url& AsyncEngine::url() const noexcept { return state_->url; }
Events& AsyncEngine::events() noexcept { return state_->events; }
PoolStatus AsyncEngine::pool_status() const { return state_->pool->status(); }
PoolStats AsyncEngine::pool_stats() const { return state_->pool->stats(); }
std::uint64_t AsyncEngine::connections_opened() const { return state_->pool->opened_total(); }
void AsyncEngine::dispose() noexcept { state_->pool->dispose(); }
const EngineOptions& AsyncEngine::options() const noexcept { return state_->options; }
boost::asio::any_io_executor AsyncEngine::get_executor() const noexcept { return state_->executor; }

bool AsyncEngine::pipelines_reads() const noexcept {
  const EngineOptions& o = state_->options;
  return state_->url.dialect() == Dialect::postgresql && o.pipeline_session_reads && o.defer_begin_past_reads &&
         !o.isolation_level && state_->reads_precede_begin.load(std::memory_order_relaxed);
}

// Not a coroutine itself: the awaitable it returns is the pipeline's (or execute_alone's), one
// frame fewer per read.
boost::asio::awaitable<Result> AsyncEngine::execute_pipelined_read(Compiled statement) {
  if (statement.plain_read && pipelines_reads()) return state_->reads->run(*this, std::move(statement));
  return execute_alone(std::move(statement));
}

boost::asio::awaitable<Result> AsyncEngine::execute_alone(Compiled statement) {
  // Not `now ? std::move(*now) : co_await ...`: GCC 12 mishandles co_await in a conditional.
  std::optional<AsyncConnection> conn = connect_now("pipelined read", std::source_location::current());
  if (!conn) conn.emplace(co_await connect(std::string("pipelined read")));
  Result r = co_await conn->execute(std::move(statement));
  if (!conn->close_now()) co_await conn->close();
  co_return r;
}

}  // namespace corm
