#pragma once
// The async front: AsyncEngine and AsyncConnection on Boost.Asio C++20 coroutines, plus
// everything in <corm/corm.hpp>.

#include "corm/asyncio/async_connection.hpp"
#include "corm/asyncio/async_engine.hpp"
#include "corm/asyncio/async_schema.hpp"
#include "corm/asyncio/async_transaction.hpp"
#include "corm/corm.hpp"
