#include "corm/engine/engine.hpp"

#include <fmt/format.h>

#include "corm/core/error.hpp"
#include "engine/engine_state.hpp"
#include "front/engine_config.hpp"

namespace corm {


Engine create_engine(std::string_view url_text, EngineOptions options) {
  auto state = std::make_shared<detail::EngineState>();
  state->url = Url::parse(url_text);
  state->options = detail::resolve_options(state->url, std::move(options));
  // The sync front has no timer of its own: the drivers enforce the limit per statement
  // (PostgreSQL's statement_timeout, SQLite's progress handler), raising QueryCanceled.
  auto& connect = state->options.connect;
  if (state->options.command_timeout.count() > 0 && connect.statement_timeout.count() == 0)
    connect.statement_timeout = state->options.command_timeout;
  auto* raw = state.get();
  state->pool = std::make_unique<QueuePool>(
      state->options.pool, [raw] { return driver::connect(raw->url, raw->options.connect); }, state->events,
      state->options.log);
  return Engine(std::move(state));
}

Connection Engine::connect(std::source_location where) { return Connection(state_, {}, where); }
Connection Engine::connect(std::string_view label, std::source_location where) {
  return Connection(state_, label, where);
}
Dialect Engine::dialect() const noexcept { return state_->url.dialect(); }
const Url& Engine::url() const noexcept { return state_->url; }
Events& Engine::events() noexcept { return state_->events; }
PoolStatus Engine::pool_status() const { return state_->pool->status(); }
PoolStats Engine::pool_stats() const { return state_->pool->stats(); }
void Engine::dispose() noexcept { state_->pool->dispose(); }
const EngineOptions& Engine::options() const noexcept { return state_->options; }

}  // namespace corm
