#pragma once
// Everything a synchronous program needs: engines, connections, transactions, events, results,
// text(); mapping and queries (<corm/sql.hpp>); Session; and the sync patterns (Repository,
// transactional(), scoped sessions, read/write routing). The async front lives in
// <corm/asyncio.hpp>, so code that does not use coroutines never compiles Boost.Asio
// (tests/compile_fail/ok_sync_headers_without_asio.cpp checks it). Each layer also has an
// umbrella of its own named after its folder: <corm/sql.hpp>, <corm/orm.hpp>, <corm/ext.hpp>,
// <corm/migrate.hpp>; <corm/orm.hpp> and <corm/ext.hpp> cover both fronts and include Asio.

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
#include "corm/core/events.hpp"
#include "corm/engine/transaction.hpp"
#include "corm/ext/repository.hpp"
#include "corm/ext/routing.hpp"
#include "corm/ext/scoped_session.hpp"
#include "corm/ext/session_factory.hpp"
#include "corm/ext/transactional.hpp"
#include "corm/orm/errors.hpp"
#include "corm/orm/load_option.hpp"
#include "corm/orm/session.hpp"
#include "corm/orm/session_options.hpp"
#include "corm/orm/session_stats.hpp"
#include "corm/sql.hpp"
