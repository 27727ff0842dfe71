#include "corm/asyncio/async_engine.hpp"

#include "asyncio/async_engine_state.hpp"
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
      [raw] { return asyncio_detail::async_connect(raw->executor, raw->url, raw->options.connect); }, state->events);
  return AsyncEngine(std::move(state));
}

boost::asio::awaitable<AsyncConnection> AsyncEngine::connect() {
  auto state = state_;  // keep the engine alive across the wait
  auto pooled = co_await state->pool->checkout();
  co_return AsyncConnection(std::move(state), std::move(pooled));
}

Dialect AsyncEngine::dialect() const noexcept { return state_->url.dialect(); }
const Url& AsyncEngine::url() const noexcept { return state_->url; }
Events& AsyncEngine::events() noexcept { return state_->events; }
PoolStatus AsyncEngine::pool_status() const { return state_->pool->status(); }
std::uint64_t AsyncEngine::connections_opened() const { return state_->pool->opened_total(); }
void AsyncEngine::dispose() noexcept { state_->pool->dispose(); }
const EngineOptions& AsyncEngine::options() const noexcept { return state_->options; }
boost::asio::any_io_executor AsyncEngine::get_executor() const noexcept { return state_->executor; }

}  // namespace corm
