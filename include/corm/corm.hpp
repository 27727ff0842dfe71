#pragma once
// Umbrella header: the synchronous front and everything below it. The async front lives in
// <corm/asyncio.hpp> so code that does not use coroutines never compiles Boost.Asio.

#include "corm/core/codec.hpp"
#include "corm/core/dialect.hpp"
#include "corm/core/error.hpp"
#include "corm/core/isolation_level.hpp"
#include "corm/core/log.hpp"
#include "corm/core/result.hpp"
#include "corm/core/url.hpp"
#include "corm/core/value.hpp"
#include "corm/engine/connection.hpp"
#include "corm/engine/engine.hpp"
#include "corm/engine/events.hpp"
#include "corm/engine/transaction.hpp"
#include "corm/sql/compiled.hpp"
#include "corm/sql/text.hpp"
