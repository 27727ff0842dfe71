#pragma once
// MySQL / MariaDB errors → corm's exception classes, by server error number first and SQLSTATE
// second. Server messages that can quote a bound value (a duplicate key's value, a rejected
// datum) stay in ErrorDetail::server_message; the exception's text names only the key,
// constraint, table or column.

#include <exception>
#include <string_view>

namespace corm::driver::mysql {

/// What failed, for the message: opening the connection, or running a statement.
enum class Phase { connect, statement, commit };

/// The exception for error `code` (mysql_errno) with `sqlstate` and the server's `message`.
/// `statement` is the SQL text (never values). A lost connection during COMMIT becomes
/// CommitOutcomeUnknown.
std::exception_ptr classify(unsigned code, std::string_view sqlstate, std::string_view message,
                            std::string_view statement, Phase phase);

/// True for the client-side error numbers that mean the connection is gone (2006, 2013, 2055,
/// and the server's 4031 / 1927 / 1053 disconnects).
bool is_connection_lost(unsigned code) noexcept;

}  // namespace corm::driver::mysql
