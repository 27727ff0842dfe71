#pragma once
// The MySQL / MariaDB driver over MariaDB Connector/C: one MYSQL handle per
// corm::driver::Connection, server-side prepared statements (binary protocol) in a bounded
// per-connection cache. Blocking; the async front runs it on a worker thread per connection.
//
// URL options (`mysql://user:pw@host:3306/db?charset=utf8mb4`): charset (utf8mb4, the default),
// unix_socket=/path (the host is then ignored), ssl_mode=disabled|preferred|required|verify_ca|
// verify_identity, connect_timeout=<seconds>, target_session_attrs=read-write|any. A host list
// (h1:p1,h2:p2) is tried in order (mysql_hosts.hpp; docs/failover.md).

#include <memory>

#include "corm/driver/driver_connection.hpp"

namespace corm::driver::mysql {

/// Opens a connection to the server `url` names and prepares its session (UTC time zone, strict
/// SQL mode without backslash escapes, the engine's isolation level and statement timeout).
/// Throws ConfigError for bad options and ConnectError when the server cannot be reached or
/// refuses the login.
std::unique_ptr<corm::driver::Connection> connect(const Url& url, const ConnectOptions& options);

/// Checks `url`'s query options and `options` without any network I/O; throws ConfigError
/// naming the accepted options.
void validate(const Url& url, const ConnectOptions& options);

}  // namespace corm::driver::mysql
