#pragma once
// Does a statement change its connection for longer than its transaction? A pooled connection
// must reach its next user as a fresh one would, but undoing session state on every check-in
// would cost every request; so each driver asks this of the SQL it runs and resets (or discards)
// only a connection that ran such a statement. The test is a cheap scan of the text that errs
// towards "yes": a false positive costs one reset, a false negative leaks state to a stranger.

#include <initializer_list>
#include <string_view>

namespace corm::driver::session_state {

/// True when `sql` contains one of `needles` (lower-case ASCII), ignoring case.
bool mentions_any(std::string_view sql, std::initializer_list<std::string_view> needles) noexcept;

/// True when the first keyword of `sql` (after blanks and comments) is `keyword` (lower-case).
bool starts_with_keyword(std::string_view sql, std::string_view keyword) noexcept;

/// PostgreSQL: SET (not SET LOCAL / SET TRANSACTION, which end with the transaction),
/// set_config, advisory locks, LISTEN, PREPARE, temporary tables, cursors WITH HOLD.
bool pg_changes_session(std::string_view sql) noexcept;

/// SQLite: PRAGMA statements, ATTACH, temporary tables and triggers.
bool sqlite_changes_session(std::string_view sql) noexcept;

/// MySQL/MariaDB: SET (not SET TRANSACTION, which lasts one transaction), user and system
/// variables (any '@'), named locks, temporary tables, USE.
bool mysql_changes_session(std::string_view sql) noexcept;

}  // namespace corm::driver::session_state
