#pragma once
// The SQL dialects corm speaks, what each one can do (DialectTraits, like SQLAlchemy's
// `supports_*` flags), and the two things every layer needs from one: how to quote an identifier
// and how to write the n-th bound parameter.

#include <cstddef>
#include <string>
#include <string_view>

namespace corm {

/// A database dialect. Code that needs to know what a dialect can do asks dialect_traits()
/// rather than comparing with a particular dialect.
enum class Dialect { postgresql, sqlite, mysql };

/// What a dialect supports, declared once per dialect.
struct DialectTraits {
  /// "postgresql", "sqlite" or "mysql".
  std::string_view name;
  /// The character that quotes identifiers ('"', or '`' on MySQL).
  char identifier_quote;
  /// Placeholders carry their position ($n, ?n), so one value can be referenced several times.
  /// False on MySQL, where `?` is positional: a value referenced twice is bound twice.
  bool numbered_placeholders;
  /// `INSERT/UPDATE/DELETE … RETURNING` (MySQL: MariaDB ≥ 10.5 for INSERT and DELETE only).
  bool supports_returning;
  /// `UPDATE … RETURNING`.
  bool supports_update_returning;
  /// A case-insensitive ILIKE operator (elsewhere ILIKE compiles to LIKE, whose default
  /// collation is already case-insensitive on SQLite for ASCII and on MySQL).
  bool supports_ilike;
  /// Row locks: `SELECT … FOR UPDATE`.
  bool supports_row_locks;
  /// DDL runs inside a transaction and rolls back with it.
  bool transactional_ddl;
  /// A whole list binds as one array parameter (`= ANY($1)`); elsewhere `IN (?, ?, …)` or JSON.
  bool supports_array_params;
  /// A server with a process per connection that can be cancelled (PostgreSQL pid, MySQL thread id).
  bool has_server_process;
  /// Two-phase commit (`PREPARE TRANSACTION` / XA).
  bool supports_two_phase;
  /// `in_()` writes one placeholder per item (`IN (?, ?, …)`): no array or JSON parameter, so
  /// each list length is its own statement.
  bool expands_in_lists = false;
  /// The most values one statement can bind (0: no limit corm needs to know). Eager loads chunk
  /// expanded IN lists below it.
  std::size_t max_bound_parameters = 0;
  /// The isolation level a transaction gets when none is asked for.
  std::string_view default_isolation;
  /// The longest identifier the server keeps whole (0: no limit). PostgreSQL counts bytes (63)
  /// and silently truncates longer names; MySQL counts characters (64) and refuses them.
  std::size_t max_identifier_length = 0;
  /// max_identifier_length counts characters (UTF-8 code points) rather than bytes.
  bool identifier_length_in_chars = false;
};

/// The capabilities of `d`.
const DialectTraits& dialect_traits(Dialect d) noexcept;

/// "postgresql", "sqlite" or "mysql".
std::string_view dialect_name(Dialect d) noexcept;

/// Quotes an identifier for `d` ("user" → "\"user\"", or `user` on MySQL), doubling embedded
/// quote characters. Throws ConfigError for an empty identifier or one containing a NUL byte.
std::string quote_identifier(Dialect d, std::string_view name);

/// Appends the placeholder for the parameter at 1-based position `n`: `$n` on PostgreSQL, `?n` on
/// SQLite (numbered, so one value can be referenced more than once, as with `$n`), and a plain `?`
/// on MySQL, where the n-th `?` always takes the n-th value.
void append_placeholder(std::string& out, Dialect d, std::size_t n);

}  // namespace corm
