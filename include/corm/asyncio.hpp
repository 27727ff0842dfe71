#pragma once
// Everything a program on the async front needs: AsyncEngine and AsyncConnection on Boost.Asio
// C++20 coroutines, AsyncSession, and the async patterns (AsyncRepository, transactional() over
// AsyncSession, AsyncScopedSessions, task groups) — plus everything in <corm/corm.hpp>.

#include "corm/asyncio/async_connection.hpp"
#include "corm/asyncio/async_engine.hpp"
#include "corm/asyncio/async_schema.hpp"
#include "corm/asyncio/async_transaction.hpp"
#include "corm/corm.hpp"
#include "corm/ext.hpp"
#include "corm/orm.hpp"
