#pragma once
// Turns a SQLite extended result code into the corm exception the caller must handle. Kept apart
// from the connection so the mapping can be read (and reviewed) as one table.

#include <chrono>
#include <string_view>

namespace corm::driver::sqlite {

/// Where the error happened: the same code means different things while opening (a broken or
/// missing file: ConnectError) and while running a statement.
enum class Phase { open, statement };

/// Throws the corm::Error subclass for extended result `code`. `server_message` is
/// sqlite3_errmsg's text, `statement` the SQL text (never parameters), `busy_timeout` is quoted in
/// the advice for SQLITE_BUSY, `database` (the file path) names the file in open-phase errors.
/// what() is corm's words followed by the server message in parentheses; constraint errors also
/// fill table/column/constraint from the server message.
[[noreturn]] void throw_error(int code, std::string_view server_message, std::string_view statement,
                              Phase phase, std::chrono::milliseconds busy_timeout,
                              std::string_view database = {});

/// True for codes after which the connection must not be reused (a corrupt or foreign file).
bool poisons_connection(int code) noexcept;

}  // namespace corm::driver::sqlite
