#pragma once
// The SQL dialects corm speaks, and the two things every layer needs from one: how to quote an
// identifier and how to write the n-th bound parameter.

#include <cstddef>
#include <string>
#include <string_view>

namespace corm {

/// A database dialect. The compiler and the drivers switch on this; nothing else does.
enum class Dialect { postgresql, sqlite };

/// "postgresql" or "sqlite".
std::string_view dialect_name(Dialect d) noexcept;

/// Quotes an identifier for `d` ("user" → "\"user\""), doubling embedded quotes. Throws
/// ConfigError for an empty identifier or one containing a NUL byte.
std::string quote_identifier(Dialect d, std::string_view name);

/// Appends the placeholder for the parameter at 1-based position `n`: `$n` on PostgreSQL, `?n` on
/// SQLite (numbered, so one value can be referenced more than once, as with `$n`).
void append_placeholder(std::string& out, Dialect d, std::size_t n);

}  // namespace corm
