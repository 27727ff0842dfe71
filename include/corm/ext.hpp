#pragma once
// Everything of the ext layer: the application patterns built on sessions — repositories,
// transactional(), scoped sessions, transactional task groups and read/write routing — for both
// fronts, so it includes Boost.Asio. The sync patterns alone come with <corm/corm.hpp>.

#include "corm/ext/async_repository.hpp"
#include "corm/ext/async_scoped_session.hpp"
#include "corm/ext/async_transactional.hpp"
#include "corm/ext/engine_pair.hpp"
#include "corm/ext/read_your_writes.hpp"
#include "corm/ext/replication_position.hpp"
#include "corm/ext/repository.hpp"
#include "corm/ext/routing.hpp"
#include "corm/ext/scoped_session.hpp"
#include "corm/ext/session_factory.hpp"
#include "corm/ext/session_kind.hpp"
#include "corm/ext/task_group.hpp"
#include "corm/ext/transactional.hpp"
