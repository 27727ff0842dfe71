#pragma once
// Which front a session type belongs to. The ext layer writes each pattern once where it can
// (scoped sessions, routing) and needs, for Session and AsyncSession alike, the engine type that
// makes one; this trait names it. The async types are only declared here, so that the sync
// patterns compile no Boost.Asio: a pattern over AsyncSession needs <corm/asyncio.hpp> (or
// <corm/orm/async_session.hpp> and <corm/asyncio/async_engine.hpp>) where it is used.

#include <type_traits>

#include "corm/engine/engine.hpp"
#include "corm/orm/session.hpp"

namespace corm {
class AsyncEngine;
class AsyncSession;
}  // namespace corm

namespace corm::ext {

/// Session or AsyncSession.
template <class S>
concept SessionType = std::is_same_v<S, Session> || std::is_same_v<S, AsyncSession>;

/// True for AsyncSession (its operations are awaitables).
template <SessionType S>
inline constexpr bool is_async_session_v = std::is_same_v<S, AsyncSession>;

/// The engine type a session of type S is made from: Engine or AsyncEngine.
template <SessionType S>
using engine_of_t = std::conditional_t<is_async_session_v<S>, AsyncEngine, Engine>;

}  // namespace corm::ext
