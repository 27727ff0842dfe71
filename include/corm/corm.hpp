#pragma once
// The synchronous front: engines, connections, transactions, events, results, text(). The async
// front lives in <corm/asyncio.hpp>, so code that does not use coroutines never compiles
// Boost.Asio (tests/compile_fail/ok_sync_headers_without_asio.cpp checks it). Each layer has an
// umbrella of its own named after its folder: <corm/sql.hpp>, <corm/orm.hpp>, <corm/ext.hpp>,
// <corm/migrate.hpp>.

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
