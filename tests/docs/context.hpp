#pragma once
// What every compiled doc snippet may use without including it: every public header of corm, the
// Boost.Asio pieces the pages use, and the standard library names they use. A page's fragments
// that need models or variables declare them in a context of their own (context/NAME.hpp).
#include <corm/asyncio.hpp>
#include <corm/corm.hpp>
#include <corm/ext.hpp>
#include <corm/migrate.hpp>
#include <corm/orm.hpp>
#include <corm/sql.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
