#pragma once
// Everything of the orm layer: Session, AsyncSession, loader options, errors. AsyncSession brings
// in Boost.Asio; a synchronous program that wants none includes <corm/orm/session.hpp> instead.

#include "corm/orm/async_session.hpp"
#include "corm/orm/errors.hpp"
#include "corm/orm/load_option.hpp"
#include "corm/orm/session.hpp"
#include "corm/orm/session_options.hpp"
#include "corm/orm/session_stats.hpp"
