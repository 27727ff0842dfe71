#pragma once
// Transaction isolation levels, named as SQL names them, plus AUTOCOMMIT (no transaction at all).

#include <optional>
#include <string_view>

namespace corm {

/// Isolation level for an engine, a connection or a session. Each dialect maps these honestly:
/// PostgreSQL runs READ UNCOMMITTED as READ COMMITTED (its documented behaviour); SQLite is always
/// SERIALIZABLE except READ UNCOMMITTED, which it honours only for shared-cache connections.
enum class IsolationLevel { autocommit, read_uncommitted, read_committed, repeatable_read, serializable };

/// The SQL spelling ("REPEATABLE READ"; "AUTOCOMMIT").
std::string_view to_sql(IsolationLevel level) noexcept;

/// Parses "read committed", "READ_COMMITTED", "REPEATABLE READ", "autocommit" (any case, space or
/// underscore). Throws ConfigError naming the accepted values otherwise.
IsolationLevel parse_isolation_level(std::string_view text);

}  // namespace corm
