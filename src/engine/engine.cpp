#include "corm/engine/engine.hpp"

#include <fmt/format.h>

#include "corm/core/error.hpp"
#include "engine/engine_state.hpp"

namespace corm {

namespace detail {

EngineOptions resolve_options(const Url& url, EngineOptions options) {
  auto& p = options.pool;
  if (p.kind == PoolKind::queue && p.pool_size + p.max_overflow == 0)
    throw ConfigError("pool_size + max_overflow is 0, so no connection could ever be checked out; set pool_size >= 1");
  if (p.pool_timeout.count() < 0)
    throw ConfigError(fmt::format("pool_timeout is {} ms; it must be 0 or more", p.pool_timeout.count()));
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

IsolationLevel default_isolation(Dialect d) noexcept {
  return d == Dialect::postgresql ? IsolationLevel::read_committed : IsolationLevel::serializable;
}

std::string begin_statement(Dialect d, IsolationLevel level, bool explicit_level) {
  if (level == IsolationLevel::autocommit) return {};
  if (d == Dialect::postgresql && explicit_level) return fmt::format("BEGIN ISOLATION LEVEL {}", to_sql(level));
  return "BEGIN";
}

}  // namespace detail

Engine create_engine(std::string_view url_text, EngineOptions options) {
  auto state = std::make_shared<detail::EngineState>();
  state->url = Url::parse(url_text);
  state->options = detail::resolve_options(state->url, std::move(options));
  state->log = state->options.log;
  auto* raw = state.get();
  state->pool = std::make_unique<QueuePool>(
      state->options.pool, [raw] { return driver::connect(raw->url, raw->options.connect); }, state->events);
  return Engine(std::move(state));
}

Connection Engine::connect() { return Connection(state_); }
Dialect Engine::dialect() const noexcept { return state_->url.dialect(); }
const Url& Engine::url() const noexcept { return state_->url; }
Events& Engine::events() noexcept { return state_->events; }
PoolStatus Engine::pool_status() const { return state_->pool->status(); }
void Engine::dispose() noexcept { state_->pool->dispose(); }
const EngineOptions& Engine::options() const noexcept { return state_->options; }

}  // namespace corm
