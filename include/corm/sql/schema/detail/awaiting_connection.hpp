#pragma once
// Tells the schema templates (MetaData::create_all, inspect) an async connection from a sync one
// without including Boost.Asio: an AsyncConnection's exec_driver_sql returns an awaitable, which
// a template written for the sync front would drop unawaited, running nothing.

#include <string>

namespace corm::detail {

/// A connection whose exec_driver_sql returns an awaitable (AsyncConnection).
template <class C>
concept AwaitingConnection = requires(C& c, const std::string& sql) { c.exec_driver_sql(sql, {}).await_ready(); };

}  // namespace corm::detail
