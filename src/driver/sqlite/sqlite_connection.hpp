#pragma once
// The SQLite driver: one sqlite3 handle per corm::driver::Connection, with a prepared-statement
// cache. Blocking; the async front runs it on a worker thread per connection.
//
// URL options (`sqlite:///app.db?mode=ro`): mode=ro|rw|rwc|memory, cache=shared|private,
// immutable=0|1 — passed to SQLite as a URI filename. `sqlite://?cache=shared` shares one
// in-memory database between the connections of a process.

#include <memory>

#include "corm/driver/driver_connection.hpp"

namespace corm::driver::sqlite {

/// Opens the database `url` names (creating the file unless mode=ro), applies `options`
/// (busy timeout, WAL for file databases, foreign keys, statement cache, statement timeout) and
/// checks the file really is a SQLite database. Throws ConfigError for bad options and
/// ConnectError when the file cannot be opened or is not a database.
std::unique_ptr<corm::driver::Connection> connect(const Url& url, const ConnectOptions& options);

/// Checks `url`'s query options and `options` without touching the file; throws ConfigError
/// naming the accepted options.
void validate(const Url& url, const ConnectOptions& options);

}  // namespace corm::driver::sqlite
